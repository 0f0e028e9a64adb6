import { messageOf } from './errors.js';

/**
 * Promise helpers shared by core rooms and adapters. A leaf module: it
 * imports nothing of stacklight but its sibling `errors.ts`.
 */

/**
 * Whether `value` is a promise or another thenable. A `then` getter that
 * throws makes the value a plain value. Never throws.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  try {
    return (
      value !== null &&
      (typeof value === 'object' || typeof value === 'function') &&
      typeof (value as { then?: unknown }).then === 'function'
    );
  } catch {
    return false;
  }
}

/**
 * `p`, or a rejection with `` `${what} timed out after ${ms} ms` `` once `ms`
 * have passed. The timer never keeps the process alive, and a rejection of
 * `p` with something that is not an `Error` is turned into one.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref?.();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(messageOf(e)));
      },
    );
  });
}
