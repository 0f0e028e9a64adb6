import type pino from 'pino';

/** The parts of the destinations pino writes to that flushing needs. */
interface FlushableStream {
  flush?: (cb?: (err?: Error | null) => void) => void;
  flushSync?: () => void;
  /** sonic-boom: an asynchronous write is in flight. */
  _writing?: boolean;
  /** sonic-boom: bytes it holds before it issues a write (0: writes at once). */
  minLength?: number;
  /** sonic-boom: bytes not written yet, those of the write in flight included. */
  _len?: number;
  /** sonic-boom: closed; `flush(cb)` calls back at once with an error. */
  destroyed?: boolean;
  on?: (event: string, listener: (...args: unknown[]) => void) => unknown;
  /** Node Writable: bytes queued. */
  writableLength?: number;
  once?: (event: string, listener: (...args: unknown[]) => void) => unknown;
  removeListener?: (event: string, listener: (...args: unknown[]) => void) => unknown;
}

/**
 * Waits until what `logger` has written so far has left the process:
 *
 * - the default destination (`BatchedFdWriter`): its `flush(cb)` calls back
 *   once every byte accepted before the call is written (or lost, counted);
 * - sonic-boom with `minLength` > 0 (a `logging.destination` built so): `flush(cb)`
 *   calls back on the next `drain`, which sonic-boom emits as soon as fewer
 *   than `minLength` bytes are left — and those stay buffered. So it is
 *   flushed in rounds until the bytes pending at the call have been written
 *   (counted by its `write` events) or nothing is pending, or a write fails;
 * - sonic-boom with `minLength` 0: `flush()` returns at once even while an
 *   asynchronous write is in flight, so we also wait for its `drain` event
 *   when it is writing;
 * - transports (thread-stream): `flush(cb)` waits until the worker has read
 *   everything;
 * - a Node `Writable`: waits until `writableLength` is 0 (polled: `drain`
 *   only fires after a `write()` returned false);
 * - anything else: resolves at once (its writes are synchronous).
 *
 * Resolves after `timeoutMs` in any case and never rejects: at shutdown a
 * stuck destination must not hold the process.
 *
 * The two sonic-boom cases read its private `_len`/`_writing`, only when
 * `readSonicBoom` says they may (internals/sonic-boom.ts); otherwise a
 * sonic-boom is flushed with its own `flush(cb)`, like any other stream.
 */
export function flushDestination(
  logger: pino.Logger,
  destination: unknown,
  timeoutMs: number,
  readSonicBoom: boolean,
): Promise<void> {
  const stream = destination as FlushableStream;
  return new Promise<void>((resolve) => {
    let pending = 0;
    let settled = false;
    const cleanups: Array<() => void> = [];
    const timer = setTimeout(finish, timeoutMs);
    timer.unref?.();

    function finish(): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const cleanup of cleanups) cleanup();
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

    function flushInRounds(): void {
      pending += 1;
      let left = stream._len ?? 0;
      let failed = false;
      const onWrite = (n: unknown): void => {
        if (typeof n === 'number') left -= n;
      };
      const onError = (): void => {
        failed = true;
      };
      stream.on!('write', onWrite);
      stream.on!('error', onError);
      cleanups.push(() => {
        stream.removeListener?.('write', onWrite);
        stream.removeListener?.('error', onError);
      });
      const round = (): void => {
        if (settled) return;
        // The bytes pending at the call come first, so never more than `_len`
        // of them are left (`flushSync()` writes without a `write` event).
        left = Math.min(left, stream._len ?? 0);
        if (left <= 0 || failed || stream.destroyed === true) {
          oneDone();
          return;
        }
        try {
          // Called back after a `drain` (and an fsync, whose error on a
          // pipe is expected), never synchronously unless destroyed.
          logger.flush(round);
        } catch {
          oneDone();
        }
      };
      round();
    }

    try {
      if (
        readSonicBoom &&
        (stream.minLength ?? 0) > 0 &&
        typeof stream._len === 'number' &&
        typeof stream.on === 'function' &&
        typeof stream.flush === 'function'
      ) {
        flushInRounds();
      } else {
        if (readSonicBoom && stream._writing === true) waitFor(['drain', 'close', 'error']);
        else if ((stream.writableLength ?? 0) > 0) pollUntilEmpty();
        if (typeof stream.flush === 'function') {
          pending += 1;
          logger.flush(() => oneDone());
        }
      }
    } catch {
      // A destroyed stream throws from flush(); there is nothing left to wait for.
    }
    if (pending === 0) finish();
  });
}
