/**
 * Strict W3C Trace Context `traceparent` parsing and formatting.
 *
 * Follows the Level 1 Recommendation (https://www.w3.org/TR/trace-context-1/)
 * to the letter, including the versioning rules for future versions, and the
 * official test suite (w3c/trace-context test/test.py) where the prose is
 * silent:
 *
 * - `version-traceid-parentid-flags`, lowercase hex only, version `ff` invalid.
 * - Version `00` is exactly 55 characters. A higher version is parsed with the
 *   version-00 layout on its first 55 characters and accepted when it is
 *   exactly 55 long or character 55 is `-`; the extra fields are ignored (we
 *   always re-emit version `00`, the highest we know).
 * - Leading and trailing optional whitespace (spaces and tabs, RFC 7230 OWS) is
 *   ignored: HTTP field values never include it, and the W3C suite's
 *   `test_traceparent_ows_handling` requires accepting it.
 * - Two flags are known: `sampled` (0x01) and Level 2's `random` (0x02, the
 *   trace id's right-most 7 bytes are random). The flags must be two hex
 *   digits; every other bit is cleared on parse (vendors MUST set unknown
 *   flags to zero).
 *
 * Hand-written char-code scanner: no regex, no intermediate strings; the only
 * allocations on success are the two id slices and the result object.
 */

const HTAB = 0x09;
const SPACE = 0x20;
const DASH = 0x2d;

/** Length of a version-00 traceparent, and of the part of any version we read. */
const V00_LENGTH = 55;

/** The `sampled` bit (Level 1). */
const FLAG_SAMPLED = 0x01;

/**
 * The `random` bit (W3C Trace Context Level 2): the trace id's right-most 7
 * bytes were drawn at random. Set on every trace stacklight starts, kept when
 * a trace that carries it is continued, never set for one that does not.
 */
export const FLAG_RANDOM = 0x02;

/** The flags stacklight knows and keeps. */
const KNOWN_FLAGS = FLAG_SAMPLED | FLAG_RANDOM;

/** The version stacklight emits. */
const VERSION_00 = '00';

/** A successfully parsed `traceparent`. */
export interface TraceParent {
  /** Version number as sent (0–254). Informational: we always emit `00`. */
  readonly version: number;
  /** 32 lowercase hex characters, not all zero. */
  readonly traceId: string;
  /** The parent id: 16 lowercase hex characters, not all zero. */
  readonly spanId: string;
  /** Trace flags with every bit but `sampled` (0x01) and `random` (0x02) cleared. */
  readonly traceFlags: number;
}

/**
 * Parses a `traceparent` value. Returns `undefined` for anything that is not
 * a valid traceparent (including non-strings), which per the spec means the
 * receiver restarts the trace and ignores `tracestate`. Never throws.
 *
 * @example
 * parseTraceParent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { version: 0, traceId: '4bf92f35…', spanId: '00f067aa0ba902b7', traceFlags: 1 }
 * parseTraceParent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'); // undefined
 */
export function parseTraceParent(value: unknown): TraceParent | undefined {
  if (typeof value !== 'string') return undefined;

  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  const length = end - start;
  // Shorter than 55 is invalid for every version ("should not parse").
  if (length < V00_LENGTH) return undefined;

  const version = hexByteAt(value, start);
  if (version < 0 || version === 0xff) return undefined;
  if (version === 0) {
    if (length !== V00_LENGTH) return undefined;
  } else if (length > V00_LENGTH && value.charCodeAt(start + V00_LENGTH) !== DASH) {
    // Future version: extra fields must be introduced by a dash.
    return undefined;
  }

  if (
    value.charCodeAt(start + 2) !== DASH ||
    value.charCodeAt(start + 35) !== DASH ||
    value.charCodeAt(start + 52) !== DASH
  ) {
    return undefined;
  }
  if (!isNonZeroHex(value, start + 3, start + 35)) return undefined;
  if (!isNonZeroHex(value, start + 36, start + 52)) return undefined;
  const flags = hexByteAt(value, start + 53);
  if (flags < 0) return undefined;

  return {
    version,
    traceId: value.slice(start + 3, start + 35),
    spanId: value.slice(start + 36, start + 52),
    traceFlags: flags & KNOWN_FLAGS,
  };
}

/**
 * Formats a version-00 `traceparent`. Only the `sampled` and `random` bits of
 * `traceFlags` are written; the ids are written as given, so validate them first with
 * {@link isValidTraceId} / {@link isValidSpanId} (the propagator does).
 *
 * @example
 * formatTraceParent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 1);
 * // '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
 */
export function formatTraceParent(traceId: string, spanId: string, traceFlags: number): string {
  return VERSION_00 + '-' + traceId + '-' + spanId + FLAG_SUFFIX[traceFlags & KNOWN_FLAGS];
}

/** `-00` … `-03`, by the known flag bits. */
const FLAG_SUFFIX: readonly string[] = ['-00', '-01', '-02', '-03'];

/**
 * True for a W3C trace-id: 32 lowercase hex characters, not all zero.
 * Stricter than `isValidTraceId` from `@opentelemetry/api`, which accepts
 * uppercase hex that W3C receivers must reject.
 *
 * @example
 * isValidTraceId('4bf92f3577b34da6a3ce929d0e0e4736'); // true
 * isValidTraceId('00000000000000000000000000000000'); // false
 */
export function isValidTraceId(id: unknown): boolean {
  return typeof id === 'string' && id.length === 32 && isNonZeroHex(id, 0, 32);
}

/**
 * True for a W3C parent-id / span-id: 16 lowercase hex characters, not all zero.
 *
 * @example
 * isValidSpanId('00f067aa0ba902b7'); // true
 * isValidSpanId('00F067AA0BA902B7'); // false
 */
export function isValidSpanId(id: unknown): boolean {
  return typeof id === 'string' && id.length === 16 && isNonZeroHex(id, 0, 16);
}

function isOws(c: number): boolean {
  return c === SPACE || c === HTAB;
}

/** Value of a lowercase hex digit, or -1. */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Value of the two lowercase hex digits at `at`, or -1. */
function hexByteAt(s: string, at: number): number {
  const hi = hexDigit(s.charCodeAt(at));
  const lo = hexDigit(s.charCodeAt(at + 1));
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

/** `s[from, to)` is lowercase hex with at least one non-zero digit. */
function isNonZeroHex(s: string, from: number, to: number): boolean {
  let nonZero = false;
  for (let i = from; i < to; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return false;
    if (d !== 0) nonZero = true;
  }
  return nonZero;
}
