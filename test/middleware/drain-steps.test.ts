/**
 * The shutdown drain step on a fake clock, against a lifecycle stand-in that
 * keeps its in-flight requests as the HTTP lifecycle does (newest first,
 * `drained` called when the last one ends): when readiness turns 503, when
 * new requests start being refused, how long in-flight requests are awaited
 * and what is recorded as aborted. The same behaviour over real sockets is
 * in drain.test.ts and lifecycle-guards.test.ts; here every time is exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { drainRequests, type Drainable } from '../../src/middleware/drain.js';
import type { ResolvedHttpOptions } from '../../src/middleware/options.js';
import { Readiness } from '../../src/middleware/readiness.js';
import type { RequestRecord } from '../../src/middleware/record.js';

const T0 = 1_700_000_000_000;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Milliseconds since the drain started. */
const elapsed = (): number => Date.now() - T0;

/** A lifecycle with requests `names` in flight (the last one is the newest). */
class Lifecycle implements Drainable {
  readonly readiness = new Readiness([], {
    failed: () => undefined,
    recovered: () => undefined,
  });
  readonly options: ResolvedHttpOptions;
  refusing = false;
  drained: (() => void) | undefined = undefined;
  /** Newest first. */
  private readonly open: string[];
  /** How each request ended: `name: completed|aborted at +ms`. */
  readonly ended: string[] = [];

  constructor(drainGraceMs: number, names: string[] = []) {
    this.options = { drainGraceMs } as ResolvedHttpOptions;
    this.open = [...names].reverse();
  }

  get inFlight(): number {
    return this.open.length;
  }

  get newestInFlight(): RequestRecord | undefined {
    return this.open[0] as unknown as RequestRecord | undefined;
  }

  finish(rec: RequestRecord, aborted: boolean): void {
    const name = rec as unknown as string;
    const i = this.open.indexOf(name);
    if (i === -1) throw new Error(`${name} finished twice`);
    this.open.splice(i, 1);
    this.ended.push(`${name}: ${aborted ? 'aborted' : 'completed'} at +${elapsed()}`);
    if (this.open.length === 0 && this.drained !== undefined) this.drained();
  }

  /** The response of `name` was sent. */
  complete(name: string): void {
    this.finish(name as unknown as RequestRecord, false);
  }
}

/** Starts the drain; `done()` tells whether it has returned. */
function drain(lc: Lifecycle, budgetMs: number): () => boolean {
  let done = false;
  void drainRequests(lc, T0 + budgetMs).then(() => (done = true));
  return () => done;
}

describe('the drain step', () => {
  it('turns readiness to draining and refuses at once with no grace, returning at once when nothing is in flight', async () => {
    const lc = new Lifecycle(0);
    const done = drain(lc, 30_000);
    // Before the step yields: no request can slip in between.
    expect(lc.readiness.draining).toBe(true);
    expect(lc.refusing).toBe(true);
    expect(await lc.readiness.run()).toEqual({
      statusCode: 503,
      body: { status: 'draining', checks: {} },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(done()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('serves new requests during the grace, then refuses them', async () => {
    const lc = new Lifecycle(300);
    const done = drain(lc, 30_000);
    expect(lc.readiness.draining).toBe(true);
    await vi.advanceTimersByTimeAsync(299);
    expect([lc.refusing, done()]).toEqual([false, false]);
    await vi.advanceTimersByTimeAsync(1);
    expect([lc.refusing, done()]).toEqual([true, true]);
  });

  it('returns when the last in-flight request ends, recording each once as completed', async () => {
    const lc = new Lifecycle(0, ['a', 'b']);
    const done = drain(lc, 30_000);
    expect(lc.refusing).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    lc.complete('a');
    await vi.advanceTimersByTimeAsync(150);
    expect(done()).toBe(false);
    lc.complete('b');
    await vi.advanceTimersByTimeAsync(0);
    expect(done()).toBe(true);
    expect(lc.ended).toEqual(['a: completed at +100', 'b: completed at +250']);
    // The lifecycle no longer reports to a finished drain; no timer is left behind.
    expect(lc.drained).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps a quarter of a small budget for the flush: what is in flight then is recorded as aborted, newest first', async () => {
    const lc = new Lifecycle(0, ['old', 'mid', 'new']);
    // Budget 800: the drain may use 600 ms.
    const done = drain(lc, 800);
    await vi.advanceTimersByTimeAsync(100);
    lc.complete('mid');
    await vi.advanceTimersByTimeAsync(499);
    expect(done()).toBe(false);
    expect(lc.ended).toEqual(['mid: completed at +100']);
    await vi.advanceTimersByTimeAsync(1);
    expect(done()).toBe(true);
    expect(lc.ended).toEqual([
      'mid: completed at +100',
      'new: aborted at +600',
      'old: aborted at +600',
    ]);
    expect(lc.drained).toBeUndefined();
  });

  it('keeps at most 1 s of a large budget for the flush', async () => {
    const lc = new Lifecycle(0, ['stuck']);
    const done = drain(lc, 30_000);
    await vi.advanceTimersByTimeAsync(28_999);
    expect(done()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done()).toBe(true);
    expect(lc.ended).toEqual(['stuck: aborted at +29000']);
  });

  it('cuts a grace longer than the budget allows, then aborts what is in flight without waiting more', async () => {
    const lc = new Lifecycle(10_000, ['stuck']);
    // Budget 2000: 1500 ms usable, all of it grace.
    const done = drain(lc, 2000);
    await vi.advanceTimersByTimeAsync(1499);
    expect([lc.refusing, done()]).toEqual([false, false]);
    await vi.advanceTimersByTimeAsync(1);
    expect([lc.refusing, done()]).toEqual([true, true]);
    expect(lc.ended).toEqual(['stuck: aborted at +1500']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborts what is in flight at once when the deadline has already passed', async () => {
    const lc = new Lifecycle(500, ['stuck']);
    const done = drain(lc, -100);
    expect(lc.refusing).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(done()).toBe(true);
    expect(lc.ended).toEqual(['stuck: aborted at +0']);
  });
});
