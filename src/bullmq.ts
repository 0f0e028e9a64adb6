/**
 * Public API of `stacklight/bullmq`: BullMQ 5 (≥ 5.22) and 6 producer and
 * worker instrumentation and the queue-depth collector. Everything exported
 * is listed here by name.
 *
 * This entry never imports `bullmq` at run time, and its types are
 * structural: a `Queue`, `Worker`, `FlowProducer` or `Job` of either major
 * is accepted as is. The root entry `stacklight` does not load this file.
 *
 * @example
 * ```ts
 * import { Queue, Worker } from 'bullmq';
 * import { init } from 'stacklight';
 * import { instrumentProcessor, instrumentQueue, instrumentWorker, monitorQueueDepth } from 'stacklight/bullmq';
 *
 * const telemetry = init({ service: 'workers' });
 * const queue = instrumentQueue(telemetry, new Queue('q_import', { connection }));
 * monitorQueueDepth(telemetry, queue);
 * instrumentWorker(telemetry, new Worker('q_import', instrumentProcessor(telemetry, importTrades), { connection }), {
 *   closeOnShutdown: true,
 * });
 * ```
 */
export {
  DEFAULT_PROGRESS_LOG_INTERVAL_MS,
  DEFAULT_QUEUE_DEPTH_CACHE_MS,
  DEFAULT_QUEUE_DEPTH_TIMEOUT_MS,
  instrumentFlowProducer,
  instrumentProcessor,
  instrumentQueue,
  instrumentWorker,
  JOB_ATTRIBUTES,
  markJobCache,
  monitorQueueDepth,
  processSpanName,
  QUEUE_DEPTH_COMPONENT,
  QUEUE_DEPTH_STATES,
  SPEC_JOB_LABELS,
} from './jobs/index.js';
export type {
  FlowProducerLike,
  JobCacheState,
  JobLabel,
  JobLike,
  ProcessorOptions,
  QueueCountsLike,
  QueueDepthOptions,
  QueueDepthState,
  QueueLike,
  TraceMode,
  WorkerLike,
  WorkerOptions,
} from './jobs/index.js';
