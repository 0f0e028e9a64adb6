import type { TelemetryContext } from '../context.js';
import type { Line, LineSanitizer } from './sanitize.js';

/** A line object with the context and trace fields addressable by name. */
export type LineWithContext = Line & {
  [K in keyof TelemetryContext | 'traceId' | 'spanId']?: unknown;
};

const NONE: Readonly<Record<string, true>> = Object.freeze({});

/**
 * Adds the request/job context fields that neither the caller (`out`) nor a
 * child binding (`bound`) already has. The fields of `CONTEXT_FIELDS` are
 * written out one by one, by name, on purpose: on the measured hot path a
 * loop over the field names with computed keys (`out[name] = v`) cost
 * ~200 ns per line in megamorphic keyed loads and stores, the named form
 * ~10 ns. A test checks that every field of `CONTEXT_FIELDS` is handled.
 *
 * Strings are scrubbed; `attempt` must be a non-negative integer; any other
 * value goes through `sanitizer.put` (schema policy: moved under `extra`).
 */
export function addContextFields(
  out: LineWithContext,
  c: TelemetryContext,
  boundKeys: Readonly<Record<string, true>> | undefined,
  s: LineSanitizer,
  moved: Line | undefined,
): Line | undefined {
  const b = boundKeys ?? NONE;
  let v: unknown;
  if ((v = c.requestId) !== undefined && out.requestId === undefined && b['requestId'] !== true) {
    if (typeof v === 'string') out.requestId = s.scrub(v);
    else moved = s.put(out, 'requestId', v, moved);
  }
  if ((v = c.userId) !== undefined && out.userId === undefined && b['userId'] !== true) {
    if (typeof v === 'string') out.userId = s.scrub(v);
    else moved = s.put(out, 'userId', v, moved);
  }
  if ((v = c.route) !== undefined && out.route === undefined && b['route'] !== true) {
    if (typeof v === 'string') out.route = s.scrub(v);
    else moved = s.put(out, 'route', v, moved);
  }
  if ((v = c.method) !== undefined && out.method === undefined && b['method'] !== true) {
    if (typeof v === 'string') out.method = s.scrub(v);
    else moved = s.put(out, 'method', v, moved);
  }
  if ((v = c.queue) !== undefined && out.queue === undefined && b['queue'] !== true) {
    if (typeof v === 'string') out.queue = s.scrub(v);
    else moved = s.put(out, 'queue', v, moved);
  }
  if ((v = c.job) !== undefined && out.job === undefined && b['job'] !== true) {
    if (typeof v === 'string') out.job = s.scrub(v);
    else moved = s.put(out, 'job', v, moved);
  }
  if ((v = c.jobId) !== undefined && out.jobId === undefined && b['jobId'] !== true) {
    if (typeof v === 'string') out.jobId = s.scrub(v);
    else moved = s.put(out, 'jobId', v, moved);
  }
  if ((v = c.attempt) !== undefined && out.attempt === undefined && b['attempt'] !== true) {
    if (Number.isInteger(v) && (v as number) >= 0) out.attempt = v;
    else moved = s.put(out, 'attempt', v, moved);
  }
  if ((v = c.eventId) !== undefined && out.eventId === undefined && b['eventId'] !== true) {
    if (typeof v === 'string') out.eventId = s.scrub(v);
    else moved = s.put(out, 'eventId', v, moved);
  }
  return moved;
}

/**
 * True when `s` is `length` lowercase hex digits: the schema's patterns for
 * `traceId` (`^[0-9a-f]{32}$`) and `spanId` (`^[0-9a-f]{16}$`). A loop, not
 * those regexps: on Node 20 each `test` of them grew irregexp's backtrack
 * stack (an allocation and a copy) in the loaded server's profile.
 */
export function isLowerHex(s: string, length: number): boolean {
  if (s.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x66 || (c < 0x61 && (c < 0x30 || c > 0x39))) return false;
  }
  return true;
}

let lastTraceId = '';

/**
 * Adds `traceId` / `spanId` of the active span by name (see
 * `addContextFields` for why). Ids that do not match the schema's pattern
 * go through `sanitizer.put` and end under `extra`. The trace id check is
 * memoised: lines of one request share it.
 */
export function addTraceIds(
  out: LineWithContext,
  traceId: string,
  spanId: string,
  s: LineSanitizer,
  moved: Line | undefined,
): Line | undefined {
  if (traceId === lastTraceId || isLowerHex(traceId, 32)) {
    lastTraceId = traceId;
    out.traceId = traceId;
  } else moved = s.put(out, 'traceId', traceId, moved);
  if (isLowerHex(spanId, 16)) out.spanId = spanId;
  else moved = s.put(out, 'spanId', spanId, moved);
  return moved;
}
