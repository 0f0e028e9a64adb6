/**
 * The readiness state on a fake clock: what `/readyz` answers for checks
 * that pass, fail, return `false`, throw or hang, how long each took, when a
 * hanging check is called again, and which transitions are reported. The
 * same answers over HTTP are in endpoints.test.ts; here every duration is
 * exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ResolvedCheck } from '../../src/middleware/options.js';
import { Readiness, type ReadinessAnswer } from '../../src/middleware/readiness.js';
import type { ReadinessCheckFn } from '../../src/middleware/types.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A readiness state whose reports are collected as text. */
function readiness(checks: Record<string, ReadinessCheckFn | [ReadinessCheckFn, number]>) {
  const reports: string[] = [];
  const list: ResolvedCheck[] = Object.entries(checks).map(([name, c]) =>
    Array.isArray(c) ? { name, check: c[0], timeoutMs: c[1] } : { name, check: c, timeoutMs: 1000 },
  );
  const r = new Readiness(list, {
    failed: (name, status, error, timeoutMs) =>
      reports.push(
        `${name} ${status} (${error instanceof Error ? error.message : String(error)}, ${timeoutMs} ms)`,
      ),
    recovered: (name) => reports.push(`${name} recovered`),
  });
  return { r, reports };
}

/** Runs the checks, letting `ms` of fake time pass; the answer must be there by then. */
async function probe(r: Readiness, ms = 0): Promise<ReadinessAnswer> {
  let answer: ReadinessAnswer | undefined;
  void r.run().then((a) => (answer = a));
  await vi.advanceTimersByTimeAsync(ms);
  if (answer === undefined) throw new Error(`no answer within ${ms} ms`);
  return answer;
}

/** A check that resolves with `value` after `ms`. */
const after =
  (ms: number, value: unknown = true): ReadinessCheckFn =>
  () =>
    new Promise((resolve) => setTimeout(() => resolve(value), ms));

describe('readiness checks', () => {
  it('answers 200 with each check and how long it took, the checks running side by side', async () => {
    const { r, reports } = readiness({ db: after(30), cache: after(10, 'PONG'), sync: () => 0 });
    expect(await probe(r, 30)).toEqual({
      statusCode: 200,
      body: {
        status: 'ok',
        checks: {
          db: { status: 'ok', durationMs: 30 },
          cache: { status: 'ok', durationMs: 10 },
          sync: { status: 'ok', durationMs: 0 },
        },
      },
    });
    // A first success is not a recovery.
    expect(reports).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers 200 with no checks at all', async () => {
    const { r } = readiness({});
    expect(await probe(r)).toEqual({ statusCode: 200, body: { status: 'ok', checks: {} } });
  });

  it('fails a check that returns false, throws or rejects; any other value passes', async () => {
    const { r, reports } = readiness({
      flag: () => false,
      throws: () => {
        throw new Error('ECONNREFUSED');
      },
      rejects: () => Promise.reject(new Error('auth failed')),
      resolvesFalse: async () => false,
      nothing: () => undefined,
      zero: () => 0,
      empty: () => '',
      nul: () => null,
    });
    const answer = await probe(r);
    expect(answer.statusCode).toBe(503);
    expect(answer.body.status).toBe('fail');
    expect(
      Object.fromEntries(Object.entries(answer.body.checks).map(([k, v]) => [k, v.status])),
    ).toEqual({
      flag: 'fail',
      throws: 'fail',
      rejects: 'fail',
      resolvesFalse: 'fail',
      nothing: 'ok',
      zero: 'ok',
      empty: 'ok',
      nul: 'ok',
    });
    // Reported as each settles (a throw first): sorted here.
    expect(reports.sort()).toEqual([
      'flag fail (check returned false, 1000 ms)',
      'rejects fail (auth failed, 1000 ms)',
      'resolvesFalse fail (check returned false, 1000 ms)',
      'throws fail (ECONNREFUSED, 1000 ms)',
    ]);
  });

  it('answers 503 when one check of several fails, whichever it is', async () => {
    for (const failing of ['first', 'last']) {
      const { r } = readiness({
        first: () => failing !== 'first',
        last: () => failing !== 'last',
      });
      const answer = await probe(r);
      expect([answer.statusCode, answer.body.status], failing).toEqual([503, 'fail']);
    }
  });

  it('times a hanging check out after its own timeout and does not call it again while it hangs', async () => {
    let release: (() => void) | undefined;
    let calls = 0;
    const queue: ReadinessCheckFn = () => {
      calls++;
      return new Promise<void>((resolve) => (release = resolve));
    };
    const { r, reports } = readiness({ queue: [queue, 50], db: () => true });
    expect(await probe(r, 50)).toEqual({
      statusCode: 503,
      body: {
        status: 'fail',
        checks: {
          queue: { status: 'timeout', durationMs: 50 },
          db: { status: 'ok', durationMs: 0 },
        },
      },
    });
    expect(reports).toEqual(['queue timeout (undefined, 50 ms)']);

    // Still pending: the next probe waits on the same call.
    const second = await probe(r, 50);
    expect(second.body.checks['queue']).toEqual({ status: 'timeout', durationMs: 50 });
    expect(calls).toBe(1);
    expect(reports).toEqual(['queue timeout (undefined, 50 ms)']);

    // A probe that arrives while it hangs gets its result when it settles.
    let answer: ReadinessAnswer | undefined;
    void r.run().then((a) => (answer = a));
    await vi.advanceTimersByTimeAsync(20);
    release!();
    await vi.advanceTimersByTimeAsync(0);
    expect(answer).toEqual({
      statusCode: 200,
      body: {
        status: 'ok',
        checks: { queue: { status: 'ok', durationMs: 20 }, db: { status: 'ok', durationMs: 0 } },
      },
    });
    expect(calls).toBe(1);
    expect(reports).toEqual(['queue timeout (undefined, 50 ms)', 'queue recovered']);

    // Once it settled, the next probe calls it again.
    void r.run();
    expect(calls).toBe(2);
  });

  it('reports transitions only: a failure once, a recovery once, a change of failure kind', async () => {
    let state: 'up' | 'down' | 'hang' = 'down';
    const { r, reports } = readiness({
      db: [() => (state === 'hang' ? new Promise(() => undefined) : state === 'up'), 100],
    });
    await probe(r);
    await probe(r);
    expect(reports).toEqual(['db fail (check returned false, 100 ms)']);
    state = 'up';
    await probe(r);
    await probe(r);
    expect(reports).toEqual(['db fail (check returned false, 100 ms)', 'db recovered']);
    state = 'hang';
    await probe(r, 100);
    expect(reports).toEqual([
      'db fail (check returned false, 100 ms)',
      'db recovered',
      'db timeout (undefined, 100 ms)',
    ]);
  });

  it('still answers when the reporter throws', async () => {
    const r = new Readiness([{ name: 'db', check: () => false, timeoutMs: 100 }], {
      failed: () => {
        throw new Error('logger broke');
      },
      recovered: () => undefined,
    });
    expect((await probe(r)).statusCode).toBe(503);
  });

  it('answers draining without running the checks once the drain started', async () => {
    const check = vi.fn(() => true);
    const { r } = readiness({ db: check });
    r.draining = true;
    expect(await probe(r)).toEqual({ statusCode: 503, body: { status: 'draining', checks: {} } });
    expect(check).not.toHaveBeenCalled();
  });

  it('answers draining, with the check results, when the drain started while the checks ran', async () => {
    const { r } = readiness({ db: after(30) });
    let answer: ReadinessAnswer | undefined;
    void r.run().then((a) => (answer = a));
    await vi.advanceTimersByTimeAsync(10);
    r.draining = true;
    await vi.advanceTimersByTimeAsync(20);
    expect(answer).toEqual({
      statusCode: 503,
      body: { status: 'draining', checks: { db: { status: 'ok', durationMs: 30 } } },
    });
  });
});
