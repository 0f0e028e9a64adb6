/**
 * Reading thrown values without trusting them. A leaf module: it imports
 * nothing of stacklight, so core rooms and adapters can all use it.
 */

/**
 * The message of any thrown value: a string itself, an error-like object's
 * `message`, otherwise `String(value)`; `'unknown error'` when even that
 * throws (a hostile `toString` or `message` getter). Never throws.
 */
export function messageOf(err: unknown): string {
  try {
    if (typeof err === 'string') return err;
    if (typeof err === 'object' && err !== null) {
      const message = (err as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    return String(err);
  } catch {
    return 'unknown error';
  }
}

/**
 * A thrown value as a span's `recordException` takes it: an `Error` or a
 * string as it is, an error-like object (one with a string `message`) as it
 * is, anything else as its {@link messageOf} text. Never throws.
 */
export function exceptionOf(err: unknown): Error | { message: string } | string {
  try {
    if (typeof err === 'string' || err instanceof Error) return err;
    if (
      typeof err === 'object' &&
      err !== null &&
      typeof (err as { message?: unknown }).message === 'string'
    )
      return err as { message: string };
  } catch {
    // A hostile getter: fall through to the text.
  }
  return messageOf(err);
}
