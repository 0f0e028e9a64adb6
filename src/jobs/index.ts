/**
 * Internal barrel of the jobs room (BullMQ instrumentation). The public
 * entry `src/bullmq.ts` picks what `stacklight/bullmq` exports from here.
 */
export { instrumentFlowProducer, instrumentQueue } from './producer.js';
export { DEFAULT_PROGRESS_LOG_INTERVAL_MS, instrumentProcessor } from './processor.js';
export { instrumentWorker } from './worker.js';
export {
  DEFAULT_QUEUE_DEPTH_CACHE_MS,
  DEFAULT_QUEUE_DEPTH_TIMEOUT_MS,
  monitorQueueDepth,
  QUEUE_DEPTH_COMPONENT,
  QUEUE_DEPTH_STATES,
} from './queue-depth.js';
export { SPEC_JOB_LABELS } from './job-label.js';
export { markJobCache } from './cache-state.js';
export type { JobCacheState } from './cache-state.js';
export { JOB_ATTRIBUTES, processSpanName } from './spans.js';
export type {
  FlowProducerLike,
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
} from './types.js';
