/**
 * The caller's `AbortSignal` combined with a timeout.
 *
 * Not `AbortSignal.any([caller, AbortSignal.timeout(ms)])`: on Node 20 and 22
 * `any()` keeps every combined signal reachable from a long-lived caller
 * signal (nodejs/node#55351, #54614), so a service that passes one shutdown
 * signal to every request would leak. Here the listener on the caller's
 * signal is removed as soon as it is no longer needed.
 */
export interface RequestSignal {
  /** The signal to hand to `fetch` (the caller's own when there is no timeout). */
  readonly signal: AbortSignal | undefined;
  /** True once the timeout has fired. */
  timedOut(): boolean;
  /**
   * Stops the timer and detaches from the caller's signal. Call it when the
   * exchange is over; the body of a response is still covered until the
   * timer fires, so call it early only when nothing is left to read.
   */
  release(): void;
}

const NO_TIMEOUT: Pick<RequestSignal, 'timedOut' | 'release'> = {
  timedOut: () => false,
  release: () => undefined,
};

/** A `TimeoutError` like the one `AbortSignal.timeout()` aborts with. */
export function timeoutError(ms: number): Error {
  return new DOMException(`The operation was aborted due to timeout (${ms} ms)`, 'TimeoutError');
}

/**
 * Combines `caller` with a `timeoutMs` timer. With no (or a zero) timeout the
 * caller's signal is passed through untouched.
 */
export function requestSignal(
  caller: AbortSignal | null | undefined,
  timeoutMs: number | undefined,
): RequestSignal {
  const own = caller ?? undefined;
  if (timeoutMs === undefined || timeoutMs <= 0) return { signal: own, ...NO_TIMEOUT };

  const controller = new AbortController();
  let fired = false;
  let timer: NodeJS.Timeout | undefined;
  const onCallerAbort = (): void => {
    controller.abort(own?.reason);
    release();
  };
  const release = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    own?.removeEventListener('abort', onCallerAbort);
  };

  if (own?.aborted) {
    controller.abort(own.reason);
    return { signal: controller.signal, timedOut: () => false, release: () => undefined };
  }
  own?.addEventListener('abort', onCallerAbort, { once: true });
  timer = setTimeout(() => {
    fired = true;
    controller.abort(timeoutError(timeoutMs));
    release();
  }, timeoutMs);
  // A pending timeout must not keep the process alive.
  timer.unref();
  return { signal: controller.signal, timedOut: () => fired, release };
}
