/**
 * Attribute validation and time arithmetic for {@link LightSpan}, with the
 * semantics of `@opentelemetry/core` 2.x (`sanitizeAttributes`,
 * `isAttributeValue`, `millisToHrTime`, `hrTime`, `addHrTimes`,
 * `hrTimeDuration`) so that a light span holds the very values an SDK span
 * would. Written for stacklight; the differential test in
 * test/tracing/light-span.test.ts holds them to the SDK's output.
 */
import { diag, type AttributeValue, type Attributes, type HrTime } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';

const NANOS_PER_SECOND = 1_000_000_000;
const NANOS_PER_MILLI = 1_000_000;

export const hasOwn = Object.prototype.hasOwnProperty;

function isPrimitiveAttributeType(type: string): boolean {
  return type === 'string' || type === 'number' || type === 'boolean';
}

/**
 * A valid attribute value: a string, number or boolean, `null`/`undefined`
 * (callers decide what to do with those), or an array whose non-null
 * elements all share one of those three types.
 */
export function isAttributeValue(value: unknown): boolean {
  if (value == null) return true;
  if (!Array.isArray(value)) return isPrimitiveAttributeType(typeof value);
  let type: string | undefined;
  for (const element of value as unknown[]) {
    if (element == null) continue;
    const t = typeof element;
    if (t === type) continue;
    if (type !== undefined || !isPrimitiveAttributeType(t)) return false;
    type = t;
  }
  return true;
}

/**
 * A copy of `attributes` without empty keys and invalid values (each warned
 * about through `diag`, as the SDK does); arrays are copied, `null` and
 * `undefined` values are kept. Anything but an object gives `{}`.
 */
export function sanitizeAttributes(attributes: unknown): Attributes {
  const out: Attributes = {};
  if (typeof attributes !== 'object' || attributes === null) return out;
  const source = attributes as Record<string, unknown>;
  for (const key in source) {
    if (!hasOwn.call(source, key)) continue;
    if (key === '') {
      diag.warn(`Invalid attribute key: ${key}`);
      continue;
    }
    const value = source[key];
    if (!isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      continue;
    }
    out[key] = (Array.isArray(value) ? value.slice() : value) as AttributeValue;
  }
  return out;
}

/** The warnings of {@link sanitizeAttributes}, without the copy. */
export function warnInvalid(attributes: unknown): void {
  if (typeof attributes !== 'object' || attributes === null) return;
  const source = attributes as Record<string, unknown>;
  for (const key in source) {
    if (!hasOwn.call(source, key)) continue;
    if (key === '') diag.warn(`Invalid attribute key: ${key}`);
    else if (!isAttributeValue(source[key]))
      diag.warn(`Invalid attribute value set for key: ${key}`);
  }
}

/**
 * For a tracer's own sanitized copy of a span's start attributes (with what
 * the sampler added): warns about what the SDK's second sanitizing would drop
 * and returns how many entries that is (> 0). Otherwise, `-1 - n` when
 * setting the `n` entries one by one on a new span would give an equal
 * object (every value a non-null string, number or boolean within
 * `lengthLimit`, at most `countLimit` keys), so the span may keep this one;
 * else 0.
 */
export function checkStartAttributes(
  attributes: Attributes,
  countLimit: number | undefined,
  lengthLimit: number,
): number {
  let invalid = 0;
  let count = 0;
  let asIs = lengthLimit > 0;
  for (const key in attributes) {
    if (!hasOwn.call(attributes, key)) continue;
    count++;
    const value = attributes[key];
    if (key === '') {
      diag.warn(`Invalid attribute key: ${key}`);
      invalid++;
    } else if (typeof value === 'string') {
      if (!(value.length <= lengthLimit)) asIs = false;
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      // kept as is
    } else if (!isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      invalid++;
    } else asIs = false; // null, undefined (skipped by the span), arrays (copied)
  }
  if (invalid > 0) return invalid;
  return asIs && (countLimit === undefined || count <= countLimit) ? -1 - count : 0;
}

/** Epoch (or relative) milliseconds as `[seconds, nanoseconds]`, nanoseconds rounded. */
export function millisToHr(millis: number): HrTime {
  return [Math.trunc(millis / 1000), Math.round((millis % 1000) * NANOS_PER_MILLI)];
}

/** `a + b`, carrying one second when the nanoseconds reach a second. */
export function addHr(a: HrTime, b: HrTime): HrTime {
  const sum: HrTime = [a[0] + b[0], a[1] + b[1]];
  if (sum[1] >= NANOS_PER_SECOND) {
    sum[1] -= NANOS_PER_SECOND;
    sum[0] += 1;
  }
  return sum;
}

/** `end - start`, borrowing one second when the nanoseconds go negative. */
export function hrDuration(start: HrTime, end: HrTime): HrTime {
  let seconds = end[0] - start[0];
  let nanos = end[1] - start[1];
  if (nanos < 0) {
    seconds -= 1;
    nanos += NANOS_PER_SECOND;
  }
  return [seconds, nanos];
}

/** A `performance.now()`-relative reading as an epoch HrTime: `timeOrigin` plus it, each part converted. */
export function performanceToHr(relativeMillis: number): HrTime {
  return addHr(millisToHr(performance.timeOrigin), millisToHr(relativeMillis));
}

/** `[seconds, nanoseconds]` as given by the API's `TimeInput`. */
export function isHrTime(value: unknown): value is HrTime {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'number' &&
    typeof value[1] === 'number'
  );
}

/** An HrTime, a number (milliseconds) or a Date. */
export function isTimeInput(value: unknown): boolean {
  return isHrTime(value) || typeof value === 'number' || value instanceof Date;
}
