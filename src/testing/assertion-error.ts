import { AssertionError } from 'node:assert';

/**
 * Throws Node's `AssertionError` (vitest, jest and `node:test` all print its
 * `expected` / `actual` as a diff), with a message that reads like a test
 * failure.
 */
export function fail(message: string, expected: unknown, actual: unknown, operator: string): never {
  throw new AssertionError({
    message: `stacklight/testing: ${message}`,
    expected,
    actual,
    operator,
  });
}
