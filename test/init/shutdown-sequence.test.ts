/**
 * The shutdown sequence on a fake clock: the phases run in order, each under
 * its own deadline inside the one budget; a hook that throws or outlives its
 * phase is reported by name (with the phase) and the phases after it still
 * run. Every time below is exact: nothing depends on how loaded the machine
 * is.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createShutdownSequence,
  phaseDeadlines,
  type ShutdownSequence,
} from '../../src/shutdown.js';

const T0 = 1_700_000_000_000;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A sequence whose problems are collected as `[hook, message]`. */
function sequence(): { seq: ShutdownSequence; problems: Array<[string, string]> } {
  const problems: Array<[string, string]> = [];
  const seq = createShutdownSequence((hook, err) => {
    problems.push([hook, err instanceof Error ? err.message : String(err)]);
  });
  return { seq, problems };
}

/** Tracks whether a promise has settled, without awaiting it. */
function settled(p: Promise<unknown>): () => boolean {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  return () => done;
}

/**
 * Runs the sequence and lets `ms` of fake time pass (the budget by
 * default): the sequence must have ended by then, hooks or not.
 */
async function runFor(seq: ShutdownSequence, budget: number, ms = budget): Promise<void> {
  const done = settled(seq.run(budget));
  await vi.advanceTimersByTimeAsync(ms);
  expect(done()).toBe(true);
}

/** A hook that never ends on its own: it records when its signal was aborted. */
function hanging(log: string[], label: string) {
  return (_deadline: number, signal: AbortSignal) =>
    new Promise<void>(() => {
      signal.addEventListener('abort', () =>
        log.push(`${label} aborted at +${Date.now() - T0}: ${(signal.reason as Error).message}`),
      );
    });
}

/** A hook that ends after `ms` of (fake) time. */
function takes(ms: number, log: string[], label: string) {
  return (_deadline: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      log.push(`${label} started at +${Date.now() - T0}`);
      setTimeout(() => {
        log.push(`${label} ended at +${Date.now() - T0}, aborted: ${signal.aborted}`);
        resolve();
      }, ms);
    });
}

describe('phaseDeadlines', () => {
  it('gives close the last quarter and flush the quarter before it, drain the rest, for a small budget', () => {
    expect(phaseDeadlines(T0, 800)).toEqual({ drain: T0 + 400, flush: T0 + 600, close: T0 + 800 });
    // Quarters are whole milliseconds, rounded down.
    expect(phaseDeadlines(T0, 7)).toEqual({ drain: T0 + 5, flush: T0 + 6, close: T0 + 7 });
    expect(phaseDeadlines(T0, 0)).toEqual({ drain: T0, flush: T0, close: T0 });
  });

  it('caps the close reserve at 1 s and the flush reserve at 2 s for a large budget', () => {
    expect(phaseDeadlines(T0, 30_000)).toEqual({
      drain: T0 + 27_000,
      flush: T0 + 29_000,
      close: T0 + 30_000,
    });
    // Between the caps: close is capped, flush still takes its quarter.
    expect(phaseDeadlines(T0, 6000)).toEqual({
      drain: T0 + 3500,
      flush: T0 + 5000,
      close: T0 + 6000,
    });
  });
});

describe('createShutdownSequence', () => {
  it('runs drain, then flush, then close, each hook with its phase deadline', async () => {
    const { seq, problems } = sequence();
    const seen: Array<[string, number]> = [];
    const hook = (label: string) => (deadline: number) => {
      seen.push([label, deadline - T0]);
    };
    // Added out of order: the phase decides when a hook runs, not the order of add().
    seq.add('close', 'server', hook('close:server'));
    seq.add('flush', 'spans', hook('flush:spans'));
    seq.add('drain', 'http', hook('drain:http'));
    seq.add('flush', 'logs', hook('flush:logs'));
    await runFor(seq, 800);
    expect(seen).toEqual([
      ['drain:http', 400],
      ['flush:spans', 600],
      ['flush:logs', 600],
      ['close:server', 800],
    ]);
    expect(problems).toEqual([]);
  });

  it('starts the hooks of a phase together and moves on when the last one ends', async () => {
    const { seq, problems } = sequence();
    const log: string[] = [];
    seq.add('drain', 'a', takes(30, log, 'a'));
    seq.add('drain', 'b', takes(10, log, 'b'));
    seq.add('flush', 'c', takes(5, log, 'c'));
    await runFor(seq, 10_000, 35);
    expect(log).toEqual([
      'a started at +0',
      'b started at +0',
      'b ended at +10, aborted: false',
      'a ended at +30, aborted: false',
      'c started at +30',
      'c ended at +35, aborted: false',
    ]);
    expect(problems).toEqual([]);
    // Nothing is left scheduled: no phase timer outlives its phase.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not abort the signal of a phase that ended in time', async () => {
    const { seq } = sequence();
    let kept: AbortSignal | undefined;
    seq.add('flush', 'spans', (_deadline, signal) => {
      kept = signal;
    });
    await runFor(seq, 1000);
    await vi.advanceTimersByTimeAsync(2000);
    expect(kept?.aborted).toBe(false);
  });

  it('waits for a hook until one millisecond before its deadline', async () => {
    const { seq, problems } = sequence();
    const log: string[] = [];
    // budget 800: drain ends at +400.
    seq.add('drain', 'http', takes(399, log, 'http'));
    seq.add('flush', 'spans', () => void log.push(`spans ran at +${Date.now() - T0}`));
    await runFor(seq, 800, 399);
    expect(log).toEqual([
      'http started at +0',
      'http ended at +399, aborted: false',
      'spans ran at +399',
    ]);
    expect(problems).toEqual([]);
  });

  it('aborts a hook still running at its phase deadline, reports it by name with the phase, and runs the later phases', async () => {
    const { seq, problems } = sequence();
    const log: string[] = [];
    seq.add('drain', 'http', takes(100, log, 'http'));
    seq.add('flush', 'stuck', hanging(log, 'stuck'));
    seq.add('flush', 'quick', takes(50, log, 'quick'));
    seq.add('close', 'server', takes(10, log, 'server'));
    const done = settled(seq.run(800));

    // drain ends at +100 (its deadline is +400); flush may run until +600.
    await vi.advanceTimersByTimeAsync(599);
    expect(done()).toBe(false);
    expect(problems).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(log).toContain('stuck aborted at +600: shutdown phase "flush" reached its deadline');
    // Reported with how long it had: from when the phase started (+100) to +600.
    expect(problems).toEqual([['stuck', 'did not finish within 500 ms (phase "flush")']]);

    await vi.advanceTimersByTimeAsync(10);
    expect(done()).toBe(true);
    expect(log).toEqual([
      'http started at +0',
      'http ended at +100, aborted: false',
      'quick started at +100',
      'quick ended at +150, aborted: false',
      'stuck aborted at +600: shutdown phase "flush" reached its deadline',
      'server started at +600',
      'server ended at +610, aborted: false',
    ]);
  });

  it('reports a hook that rejects once its signal is aborted only once, as not finished', async () => {
    const { seq, problems } = sequence();
    seq.add(
      'flush',
      'exporter',
      (_deadline, signal) =>
        new Promise<void>((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(new Error('socket destroyed')));
        }),
    );
    await runFor(seq, 800, 600);
    expect(problems).toEqual([['exporter', 'did not finish within 600 ms (phase "flush")']]);
  });

  it('gives a phase whose deadline has passed (the event loop was blocked) no time, and says 0 ms', async () => {
    const { seq, problems } = sequence();
    const log: string[] = [];
    // budget 800: flush ends at +600; the drain hook blocks the event loop until +700.
    seq.add('drain', 'blocking', () => {
      vi.setSystemTime(T0 + 700);
    });
    seq.add('flush', 'late', hanging(log, 'late'));
    seq.add('close', 'server', () => void log.push(`server ran at +${Date.now() - T0}`));
    await runFor(seq, 800, 0);
    expect(problems).toEqual([['late', 'did not finish within 0 ms (phase "flush")']]);
    expect(log).toEqual([
      'late aborted at +700: shutdown phase "flush" reached its deadline',
      'server ran at +700',
    ]);
  });

  it('reports a hook that throws or rejects, and still runs the others and the later phases', async () => {
    const { seq, problems } = sequence();
    const ran: string[] = [];
    seq.add('drain', 'sync-throw', () => {
      throw new Error('boom');
    });
    seq.add('drain', 'rejects', () => Promise.reject(new Error('nope')));
    seq.add('drain', 'fine', () => void ran.push('drain:fine'));
    seq.add('close', 'server', () => void ran.push('close:server'));
    await runFor(seq, 1000);
    expect(problems).toEqual([
      ['sync-throw', 'boom'],
      ['rejects', 'nope'],
    ]);
    expect(ran).toEqual(['drain:fine', 'close:server']);
  });

  it('makes hook names unique within a phase (name#2, name#3) and reports them so', async () => {
    const { seq, problems } = sequence();
    const fail = (message: string) => () => {
      throw new Error(message);
    };
    seq.add('flush', 'db', fail('first'));
    seq.add('flush', 'db', fail('second'));
    seq.add('flush', 'db', fail('third'));
    // Another phase has its own names.
    seq.add('close', 'db', fail('close'));
    await runFor(seq, 1000);
    expect(problems).toEqual([
      ['db', 'first'],
      ['db#2', 'second'],
      ['db#3', 'third'],
      ['db', 'close'],
    ]);
  });

  it('removes exactly the hook whose remover is called', async () => {
    const { seq } = sequence();
    const ran: string[] = [];
    const hook = (label: string) => () => void ran.push(label);
    seq.add('drain', 'db', hook('first db'));
    const removeSecond = seq.add('drain', 'db', hook('second db'));
    const removeClose = seq.add('close', 'server', hook('server'));
    removeSecond();
    removeClose();
    await runFor(seq, 1000);
    expect(ran).toEqual(['first db']);
  });

  it('runs once: run() twice returns the same promise, with the first budget', async () => {
    const { seq, problems } = sequence();
    const deadlines: number[] = [];
    seq.add('close', 'server', (deadline) => void deadlines.push(deadline - T0));
    expect(seq.started).toBe(false);
    const first = seq.run(800);
    expect(seq.started).toBe(true);
    const second = seq.run(30_000);
    expect(second).toBe(first);
    await vi.advanceTimersByTimeAsync(800);
    await first;
    expect(seq.run(800)).toBe(first);
    expect(deadlines).toEqual([800]);
    expect(problems).toEqual([]);
  });
});
