import { ConfigError } from '../errors.js';
import type { Telemetry } from '../types.js';
import { withTimeout } from '../util/async.js';
import { messageOf } from '../util/errors.js';
import { jobsRuntime } from './runtime.js';
import type { QueueCountsLike, QueueDepthOptions, QueueDepthState } from './types.js';

/** Every state `queue_depth` can report, and the default set. */
export const QUEUE_DEPTH_STATES: readonly QueueDepthState[] = Object.freeze([
  'waiting',
  'active',
  'delayed',
  'failed',
  'prioritized',
]);

/** Default of `cacheMs`. */
export const DEFAULT_QUEUE_DEPTH_CACHE_MS = 5000;
/** Default of `timeoutMs` (capped at half of `metrics.collectTimeoutMs`). */
export const DEFAULT_QUEUE_DEPTH_TIMEOUT_MS = 1000;

/** Self-metric component under which failed reads are counted. */
export const QUEUE_DEPTH_COMPONENT = 'queue_depth';

interface Entry {
  readonly queue: QueueCountsLike;
  readonly name: string;
  /** When the last read ended (success or failure); 0 before the first. */
  at: number;
  /** The Redis call still outstanding, if any: never more than one per queue. */
  pending: Promise<Record<string, number>> | undefined;
  /** The current refresh, shared by concurrent scrapes. */
  refreshing: Promise<void> | undefined;
}

/**
 * Reports `queue_depth{queue,state}` for `queues`, read with
 * `getJobCounts` when `/metrics` is scraped (never on a timer).
 *
 * A scrape never waits on Redis for long: each read is bounded by
 * `timeoutMs`, counts are served from memory for `cacheMs`, concurrent
 * scrapes share one read, and a queue never has more than one read
 * outstanding. A read that fails or times out removes that queue's series
 * (absent means unknown; a stale number would hide a growing backlog),
 * counts `stacklight_internal_errors_total{component="queue_depth"}` and
 * writes one warning per queue per minute; the queue is not asked again
 * before `cacheMs` has passed.
 *
 * Returns a function that stops reporting and removes the series.
 *
 * @throws {ConfigError} for an invalid option.
 * @example
 * ```ts
 * const stop = monitorQueueDepth(telemetry, [importQueue, scoreQueue]);
 * ```
 */
export function monitorQueueDepth(
  telemetry: Telemetry,
  queues: QueueCountsLike | readonly QueueCountsLike[],
  options: QueueDepthOptions = {},
): () => void {
  const list = Array.isArray(queues)
    ? (queues as readonly QueueCountsLike[])
    : [queues as QueueCountsLike];
  list.forEach((q, i) => {
    if (
      q === null ||
      typeof q !== 'object' ||
      typeof q.getJobCounts !== 'function' ||
      typeof q.name !== 'string'
    ) {
      throw new ConfigError(
        `monitorQueueDepth.queues[${i}]`,
        q,
        'a BullMQ Queue (an object with a name and getJobCounts())',
      );
    }
  });
  const { states, timeoutMs, cacheMs } = resolveOptions(telemetry, options);
  const rt = jobsRuntime(telemetry);
  const gauge = telemetry.metrics.queueDepth;
  const entries: Entry[] = list.map((queue) => ({
    queue,
    name: queue.name,
    at: 0,
    pending: undefined,
    refreshing: undefined,
  }));

  function removeSeries(e: Entry): void {
    for (const state of states) gauge.remove({ queue: e.name, state });
  }

  async function read(e: Entry): Promise<void> {
    try {
      // One call per queue at most: a read that outlived its timeout is
      // waited on again rather than stacked with a new one.
      e.pending ??= callGetJobCounts(e.queue, states).finally(() => {
        e.pending = undefined;
      });
      const counts = await withTimeout(e.pending, timeoutMs, 'getJobCounts');
      for (const state of states) {
        const n = counts[state];
        gauge.set({ queue: e.name, state }, typeof n === 'number' && Number.isFinite(n) ? n : 0);
      }
    } catch (err) {
      removeSeries(e);
      rt.fault(
        QUEUE_DEPTH_COMPONENT,
        `queue_depth:${e.name}`,
        `reading the depth of queue "${e.name}" failed: ${messageOf(err)}`,
      );
    } finally {
      e.at = Date.now();
    }
  }

  function refresh(e: Entry): Promise<void> | undefined {
    if (e.refreshing !== undefined) return e.refreshing;
    if (e.at !== 0 && Date.now() - e.at < cacheMs) return undefined;
    e.refreshing = read(e).finally(() => {
      e.refreshing = undefined;
    });
    return e.refreshing;
  }

  const unregister = gauge.addCollector(async function collectQueueDepth() {
    await Promise.all(entries.map(refresh));
  });
  let stopped = false;
  return function stopQueueDepth() {
    if (stopped) return;
    stopped = true;
    unregister();
    for (const e of entries) removeSeries(e);
  };
}

function resolveOptions(
  telemetry: Telemetry,
  options: QueueDepthOptions,
): { states: readonly QueueDepthState[]; timeoutMs: number; cacheMs: number } {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('monitorQueueDepth.options', options, 'an options object');
  }
  const states = options.states ?? QUEUE_DEPTH_STATES;
  if (
    !Array.isArray(states) ||
    states.length === 0 ||
    states.some((s) => !QUEUE_DEPTH_STATES.includes(s as QueueDepthState))
  ) {
    throw new ConfigError(
      'monitorQueueDepth.states',
      states,
      `a non-empty list of ${QUEUE_DEPTH_STATES.join(', ')}`,
    );
  }
  const budget = telemetry.config.metrics.collectTimeoutMs;
  const timeoutMs =
    options.timeoutMs ??
    Math.max(1, Math.min(DEFAULT_QUEUE_DEPTH_TIMEOUT_MS, Math.floor(budget / 2)));
  if (
    typeof timeoutMs !== 'number' ||
    !Number.isFinite(timeoutMs) ||
    timeoutMs <= 0 ||
    timeoutMs >= budget
  ) {
    throw new ConfigError(
      'monitorQueueDepth.timeoutMs',
      timeoutMs,
      `a number of ms > 0 and below metrics.collectTimeoutMs (${budget})`,
    );
  }
  const cacheMs = options.cacheMs ?? DEFAULT_QUEUE_DEPTH_CACHE_MS;
  if (typeof cacheMs !== 'number' || !Number.isFinite(cacheMs) || cacheMs < 0) {
    throw new ConfigError('monitorQueueDepth.cacheMs', cacheMs, 'a number of ms >= 0');
  }
  return { states: [...new Set(states)], timeoutMs, cacheMs };
}

function callGetJobCounts(
  queue: QueueCountsLike,
  states: readonly QueueDepthState[],
): Promise<Record<string, number>> {
  try {
    return Promise.resolve(
      (queue.getJobCounts as (...types: string[]) => Promise<Record<string, number>>).apply(queue, [
        ...states,
      ]),
    );
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(messageOf(err)));
  }
}
