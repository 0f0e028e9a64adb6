import type pino from 'pino';

/** The parts of the destinations pino writes to that flushing needs. */
interface FlushableStream {
  flush?: (cb?: (err?: Error | null) => void) => void;
  flushSync?: () => void;
  /** sonic-boom: an asynchronous write is in flight. */
  _writing?: boolean;
  /** Node Writable: bytes queued. */
  writableLength?: number;
  once?: (event: string, listener: (...args: unknown[]) => void) => unknown;
  removeListener?: (event: string, listener: (...args: unknown[]) => void) => unknown;
}

/**
 * Waits until what `logger` has written so far has left the process:
 *
 * - sonic-boom (the default destination): `flush()` returns at once when
 *   `minLength` is 0 even while an asynchronous write is in flight, so we
 *   also wait for its `drain` event when it is writing;
 * - transports (thread-stream): `flush(cb)` waits until the worker has read
 *   everything;
 * - a Node `Writable`: waits until `writableLength` is 0 (polled: `drain`
 *   only fires after a `write()` returned false);
 * - anything else: resolves at once (its writes are synchronous).
 *
 * Resolves after `timeoutMs` in any case and never rejects: at shutdown a
 * stuck destination must not hold the process.
 */
export function flushDestination(
  logger: pino.Logger,
  destination: unknown,
  timeoutMs: number,
): Promise<void> {
  const stream = destination as FlushableStream;
  return new Promise<void>((resolve) => {
    let pending = 0;
    let settled = false;
    const timer = setTimeout(finish, timeoutMs);
    timer.unref?.();

    function finish(): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve();
    }
    function oneDone(): void {
      pending -= 1;
      if (pending <= 0) finish();
    }
    function waitFor(events: readonly string[]): void {
      if (typeof stream.once !== 'function') return;
      pending += 1;
      let done = false;
      const listener = (): void => {
        if (done) return;
        done = true;
        for (const e of events) stream.removeListener?.(e, listener);
        oneDone();
      };
      for (const e of events) stream.once(e, listener);
    }

    function pollUntilEmpty(): void {
      pending += 1;
      const tick = (): void => {
        if (settled) return;
        if ((stream.writableLength ?? 0) === 0) oneDone();
        else setTimeout(tick, 2).unref?.();
      };
      tick();
    }

    try {
      if (stream._writing === true) waitFor(['drain', 'close', 'error']);
      else if ((stream.writableLength ?? 0) > 0) pollUntilEmpty();
      if (typeof stream.flush === 'function') {
        pending += 1;
        logger.flush(() => oneDone());
      }
    } catch {
      // A destroyed stream throws from flush(); there is nothing left to wait for.
    }
    if (pending === 0) finish();
  });
}
