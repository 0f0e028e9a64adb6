/**
 * The shutdown sequence: hooks run phase by phase under one shared budget.
 *
 * - `drain`: stop taking work (readiness turns 503, HTTP servers drain,
 *   workers close);
 * - `flush`: spans, logs, Sentry events;
 * - `close`: servers and handles (the service's own `app.close()` too).
 *
 * Every phase runs, whatever the phases before it did: each has its own
 * deadline inside the budget. `close` keeps a reserve at the end of the
 * budget and `flush` one before it, so a hung collector or a stalled drain
 * cannot starve the phases after it; time a phase leaves unused goes to
 * the next. When a phase's deadline comes, its hooks' `signal` is aborted
 * (the span exporter then destroys its sockets) and a hook still running
 * is reported and left behind.
 */
export type ShutdownPhase = 'drain' | 'flush' | 'close';

const PHASES: readonly ShutdownPhase[] = ['drain', 'flush', 'close'];

/**
 * A step of the shutdown sequence. `deadline` is the epoch-ms time by which
 * its phase ends; `signal` is aborted then.
 */
export type ShutdownHook = (deadline: number, signal: AbortSignal) => void | Promise<void>;

export interface ShutdownSequence {
  add(phase: ShutdownPhase, name: string, hook: ShutdownHook): () => void;
  /** Runs once; later calls return the same promise. */
  run(timeoutMs: number): Promise<void>;
  readonly started: boolean;
}

/**
 * The time each phase may end by, for a budget starting at `start`: `close`
 * keeps the last quarter (at most 1 s), `flush` the quarter before it (at
 * most 2 s, at least what is left), `drain` the rest.
 */
export function phaseDeadlines(start: number, timeoutMs: number): Record<ShutdownPhase, number> {
  const end = start + timeoutMs;
  const closeReserve = Math.min(1000, Math.floor(timeoutMs / 4));
  const flushReserve = Math.min(2000, Math.floor(timeoutMs / 4));
  return {
    drain: end - closeReserve - flushReserve,
    flush: end - closeReserve,
    close: end,
  };
}

export function createShutdownSequence(
  onProblem: (hook: string, err: unknown) => void,
): ShutdownSequence {
  const hooks = new Map<ShutdownPhase, Map<string, ShutdownHook>>(
    PHASES.map((p) => [p, new Map()]),
  );
  let running: Promise<void> | undefined;

  async function runPhase(phase: ShutdownPhase, deadline: number): Promise<void> {
    const entries = [...hooks.get(phase)!];
    if (entries.length === 0) return;
    const abort = new AbortController();
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), Math.max(0, left));
      timer.unref();
    });
    const pending = new Set<string>(entries.map(([name]) => name));
    const all = Promise.all(
      entries.map(async ([name, hook]) => {
        try {
          await hook(deadline, abort.signal);
        } catch (err) {
          if (!abort.signal.aborted) onProblem(name, err);
        } finally {
          pending.delete(name);
        }
      }),
    );
    const outcome = await Promise.race([all.then(() => 'done' as const), expired]);
    clearTimeout(timer);
    if (outcome === 'expired') {
      // Abort first (sockets destroyed, timers cleared), then report.
      abort.abort(new Error(`shutdown phase "${phase}" reached its deadline`));
      for (const name of pending) {
        onProblem(
          name,
          new Error(`did not finish within ${Math.max(0, left)} ms (phase "${phase}")`),
        );
      }
    }
  }

  async function runAll(timeoutMs: number): Promise<void> {
    const deadlines = phaseDeadlines(Date.now(), timeoutMs);
    for (const phase of PHASES) await runPhase(phase, deadlines[phase]);
  }

  return {
    add(phase, name, hook) {
      let unique = name;
      for (let i = 2; hooks.get(phase)!.has(unique); i++) unique = `${name}#${i}`;
      hooks.get(phase)!.set(unique, hook);
      return () => hooks.get(phase)!.delete(unique);
    },
    run(timeoutMs) {
      running ??= runAll(timeoutMs);
      return running;
    },
    get started() {
      return running !== undefined;
    },
  };
}
