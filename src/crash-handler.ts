import type { Logger } from 'pino';

/** What the crash handler needs from `init()`. */
export interface CrashHandlerSetup {
  logger: Logger;
  /** Sends the error to Sentry (a no-op without Sentry). */
  capture(err: unknown, origin: string): void;
  /** Flushes log lines, spans and Sentry events; bounded by the caller. */
  flush(): Promise<unknown>;
  /** Upper bound of the flush before the process ends, in ms. */
  timeoutMs: number;
  /**
   * Local work the flush needs first (Sentry still loading right after
   * `init()`), waited for before the flush's own bound starts, at most
   * `readyTimeoutMs`: no network is involved, so it ends, and an event
   * captured meanwhile would otherwise be lost to a slow start.
   */
  ready?: () => Promise<unknown>;
  /** Upper bound of `ready`, in ms. @default 0 */
  readyTimeoutMs?: number;
  /** Ends the process (tests replace it). @default process.exit */
  exit?: (code: number) => void;
  /** The process whose events are watched. @default process */
  target?: NodeJS.Process;
}

/** `work`, or nothing after `ms`; never rejects, leaves no timer behind. */
function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref?.();
  });
  return Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    bound,
  ]).finally(() => clearTimeout(timer));
}

/** The `--unhandled-rejections` mode this process runs with (Node's default: `throw`). */
export function unhandledRejectionsMode(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): string {
  const args = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];
  let mode = 'throw';
  for (const a of args) {
    const m = /^--unhandled-rejections=(\S+)$/.exec(a);
    if (m) mode = m[1]!;
  }
  return mode;
}

/**
 * Installs `uncaughtException` and `unhandledRejection` listeners that write
 * one scrubbed `fatal` line, capture the error to Sentry and flush, then end
 * the process with exit code 1, as Node would have without a listener
 * (Node's own print of the raw, unscrubbed stack to stderr is what this
 * replaces). When the service listens for the event itself, or rejections
 * are set to `warn`/`none`, the error is logged and captured and the process
 * is left to the service. Returns a function that removes the listeners.
 */
export function installCrashHandlers(setup: CrashHandlerSetup): () => void {
  const target = setup.target ?? process;
  const exit = setup.exit ?? ((code: number) => process.exit(code));
  let ending = false;

  const end = (): void => {
    if (ending) {
      // A second crash while flushing: end now.
      exit(1);
      return;
    }
    ending = true;
    void bounded(setup.ready?.() ?? Promise.resolve(), setup.readyTimeoutMs ?? 0)
      .then(() => bounded(setup.flush(), setup.timeoutMs))
      .finally(() => exit(1));
  };

  const report = (err: unknown, origin: string, fatal: boolean, capture = true): void => {
    try {
      setup.logger[fatal ? 'fatal' : 'error'](
        { err, extra: { origin } },
        origin === 'unhandledRejection' ? 'unhandled promise rejection' : 'uncaught exception',
      );
    } catch {
      // The logger failing must not hide the crash.
    }
    if (!capture) return;
    try {
      setup.capture(err, origin);
    } catch {
      // Nor must Sentry.
    }
  };

  const onException = (err: Error, origin?: string): void => {
    // Sentry's own fatal handler (a service's `Sentry.init` with default
    // integrations) marks itself `_errorHandler`: it is not the service
    // handling the error, and it captures the error itself.
    const others = target.listeners('uncaughtException').filter((l) => l !== onException);
    const sentryHandles = others.some((l) => (l as { _errorHandler?: boolean })._errorHandler);
    const theirs = others.some(
      (l) =>
        (l as { _errorHandler?: boolean })._errorHandler !== true &&
        l.name !== 'domainUncaughtExceptionClear',
    );
    report(err, origin ?? 'uncaughtException', !theirs, !sentryHandles);
    if (!theirs) end();
  };
  // So that Sentry's fatal handler, too, counts this one as an error handler
  // rather than the service's own (it would then never end the process).
  Object.assign(onException, { _errorHandler: true });
  const onRejection = (reason: unknown): void => {
    const theirs = target.listenerCount('unhandledRejection') > 1;
    const mode = unhandledRejectionsMode();
    const crashes = !theirs && (mode === 'throw' || mode === 'strict');
    report(reason, 'unhandledRejection', crashes);
    if (mode === 'warn-with-error-code' && !theirs) target.exitCode = 1;
    if (crashes) end();
  };
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
