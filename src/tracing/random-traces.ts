/**
 * Which trace ids are known to be random, for the W3C Trace Context Level 2
 * `random` flag (0x02). OpenTelemetry's span contexts carry only the
 * `sampled` flag from one span to its children (the SDK builds a child's
 * flags from the sampling decision alone), so the flag is kept here, by
 * trace id, and the propagator sets it when it writes a `traceparent`:
 *
 * - a trace id stacklight's generator drew is random (`ids.ts` marks it);
 * - a trace continued from a `traceparent` with the flag set is marked when
 *   the header is read;
 * - any other trace id is not in the set, so the flag is never invented.
 *
 * Bounded: the last {@link RANDOM_TRACE_IDS_MAX} ids are remembered. A trace
 * that outlives that many newer ones loses the flag on its later outgoing
 * calls — the conservative way (a receiver then only does without the hint).
 */

/** Trace ids remembered (a power of two). */
export const RANDOM_TRACE_IDS_MAX = 8192;

const ring: Array<string | undefined> = new Array<string | undefined>(RANDOM_TRACE_IDS_MAX);
let next = 0;
const known = new Set<string>();

/** Remembers `traceId` as random. */
export function markRandomTraceId(traceId: string): void {
  if (known.has(traceId)) return;
  const old = ring[next];
  if (old !== undefined) known.delete(old);
  ring[next] = traceId;
  known.add(traceId);
  next = (next + 1) & (RANDOM_TRACE_IDS_MAX - 1);
}

/** Whether `traceId` is known to be random (see the module comment). */
export function isRandomTraceId(traceId: string): boolean {
  return known.has(traceId);
}
