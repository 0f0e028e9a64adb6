import { getContext, type TelemetryContext } from '../context.js';

/** Values of the `cache` label of `job_completion_duration_seconds`. */
export type JobCacheState = 'cold' | 'warm';

/** Cache state of the runs in progress, keyed by the run's context object. */
const states = new WeakMap<TelemetryContext, { cache: JobCacheState | undefined }>();

/** Opens the slot of one run; returns it so the run reads it at its end. */
export function openCacheSlot(ctx: TelemetryContext): { cache: JobCacheState | undefined } {
  const slot = { cache: undefined as JobCacheState | undefined };
  states.set(ctx, slot);
  return slot;
}

/**
 * Marks the job run in progress as served from a warm cache or computed
 * cold: the `cache` label of `job_completion_duration_seconds` (the
 * simulation SLO has a 1 s objective warm and 3 s cold). Call it inside an
 * instrumented processor; outside one it does nothing and returns `false`.
 * The last call of the run wins; a run that never calls it is `none`.
 *
 * @example
 * instrumentProcessor(telemetry, async (job) => {
 *   const hit = await cache.get(key);
 *   markJobCache(hit === undefined ? 'cold' : 'warm');
 *   ...
 * });
 */
export function markJobCache(state: JobCacheState): boolean {
  if (state !== 'cold' && state !== 'warm') return false;
  const ctx = getContext();
  const slot = ctx === undefined ? undefined : states.get(ctx);
  if (slot === undefined) return false;
  slot.cache = state;
  return true;
}
