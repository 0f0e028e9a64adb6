/**
 * `stacklight/testing`: helpers for service authors' own tests, for any test
 * runner (vitest, jest, `node:test`). A test `Telemetry` keeps spans, log
 * lines and metrics in memory; the assertions throw Node's `AssertionError`
 * with `expected` and `actual`.
 *
 * @example
 * ```ts
 * import { createTestTelemetry, assertMetric, assertLogLines } from 'stacklight/testing';
 * ```
 */
export {
  assertLogLines,
  assertMetric,
  assertOneServerSpan,
  assertTraceparent,
} from './testing/assertions.js';
export type { LogLineOptions, TraceparentOptions } from './testing/assertions.js';
export { createTestTelemetry } from './testing/telemetry.js';
export type { CapturedLogLine, TestTelemetry } from './testing/telemetry.js';
