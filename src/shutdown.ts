/**
 * The shutdown sequence: hooks run phase by phase under one deadline.
 *
 * - `drain`: stop taking work (readiness turns 503, HTTP servers drain,
 *   workers close) — later rooms register here;
 * - `flush`: spans, logs, Sentry events;
 * - `close`: servers and handles stacklight itself opened.
 *
 * A hook that throws or outlives the deadline is reported and skipped; the
 * sequence always finishes by the deadline.
 */
export type ShutdownPhase = 'drain' | 'flush' | 'close';

const PHASES: readonly ShutdownPhase[] = ['drain', 'flush', 'close'];

export type ShutdownHook = (deadline: number) => void | Promise<void>;

export interface ShutdownSequence {
  add(phase: ShutdownPhase, name: string, hook: ShutdownHook): () => void;
  /** Runs once; later calls return the same promise. */
  run(timeoutMs: number): Promise<void>;
  readonly started: boolean;
}

export function createShutdownSequence(
  onProblem: (hook: string, err: unknown) => void,
): ShutdownSequence {
  const hooks = new Map<ShutdownPhase, Map<string, ShutdownHook>>(
    PHASES.map((p) => [p, new Map()]),
  );
  let running: Promise<void> | undefined;

  async function runAll(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const phase of PHASES) {
      const entries = [...hooks.get(phase)!];
      await Promise.all(
        entries.map(async ([name, hook]) => {
          const left = deadline - Date.now();
          if (left <= 0) {
            onProblem(name, new Error('skipped: shutdown deadline reached'));
            return;
          }
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              Promise.resolve().then(() => hook(deadline)),
              new Promise<void>((_, reject) => {
                timer = setTimeout(
                  () => reject(new Error(`did not finish within ${left} ms`)),
                  left,
                );
                timer.unref();
              }),
            ]);
          } catch (err) {
            onProblem(name, err);
          } finally {
            clearTimeout(timer);
          }
        }),
      );
    }
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
