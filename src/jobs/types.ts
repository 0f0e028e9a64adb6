/**
 * Structural shapes of the BullMQ objects the instrumentation touches, and
 * the public option types of `stacklight/bullmq`.
 *
 * Nothing here imports `bullmq`: the shapes are the few members stacklight
 * reads or wraps, common to BullMQ 5 (≥ 5.22) and 6, so that a `Queue`,
 * `Worker`, `FlowProducer` or `Job` of either major (or a test double) is
 * accepted as is and the root entry never loads BullMQ, not even for types.
 */

/** The members of a BullMQ `Job` that stacklight reads. */
export interface JobLike {
  readonly name: string;
  readonly id?: string | undefined;
  readonly queueName: string;
  readonly data: unknown;
  /** Attempts finished before this run (0 on the first run). */
  readonly attemptsMade?: number;
  readonly opts?: { readonly attempts?: number | undefined } | undefined;
  /** Time the job was added, ms since the epoch. */
  readonly timestamp?: number;
  updateProgress(progress: never): Promise<void>;
}

/** The members of a BullMQ `Queue` that the producer instrumentation wraps. */
export interface QueueLike {
  readonly name: string;
  add(name: never, data: never, opts?: never): Promise<{ readonly id?: string | undefined }>;
  addBulk(jobs: never): Promise<readonly { readonly id?: string | undefined }[]>;
}

/** The member of a BullMQ `Queue` that queue-depth collection reads. */
export interface QueueCountsLike {
  readonly name: string;
  getJobCounts(...types: never[]): Promise<Record<string, number>>;
}

/** The members of a BullMQ `FlowProducer` that the producer instrumentation wraps. */
export interface FlowProducerLike {
  add(flow: never, opts?: never): Promise<unknown>;
  addBulk(flows: never): Promise<unknown>;
}

/** The members of a BullMQ `Worker` that worker instrumentation uses. */
export interface WorkerLike {
  readonly name: string;
  on(event: 'stalled', listener: (jobId: string, prev: string) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'closed', listener: () => void): unknown;
  close(force?: boolean): Promise<void>;
}

/**
 * How a worker's span relates to the producer's:
 * - `parent`: the `process <queue>` span is a child of the `enqueue <queue>`
 *   span, so one trace runs from the HTTP request through every attempt of
 *   the job and whatever the job calls;
 * - `link`: each attempt starts a new trace (sampled on its own) whose root
 *   span links to the producer span. For fan-out of many jobs, where one
 *   parent would put thousands of runs into one trace and tie their sampling
 *   to one decision.
 */
export type TraceMode = 'parent' | 'link';

/**
 * How the `job` label of the job metrics is derived from a job name: a map
 * (names it does not list keep their own name) or a function.
 */
export type JobLabel =
  Readonly<Record<string, string>> | ((jobName: string, queue: string) => string);

/** Options of `instrumentProcessor`. */
export interface ProcessorOptions {
  /**
   * Parent or link relation to the producer span (see {@link TraceMode}).
   * @default 'parent'
   */
  traceMode?: TraceMode;
  /**
   * Value of the `job` label of `job_duration_ms` and the job counters.
   * Log lines and spans always carry the job name as given.
   * @default the job name as given
   * @example `{ jobLabel: SPEC_JOB_LABELS }` (import.trades → import,
   *   score.bias → score, simulate.simple → sim, digest.weekly → digest;
   *   other names as given)
   */
  jobLabel?: JobLabel;
  /**
   * The broker a job works for, written as `broker` on its progress lines.
   * @default the job's `data.broker` when it is a string
   */
  broker?: (job: JobLike) => string | undefined;
  /**
   * Shortest interval between two `job progress` lines of one job, in ms;
   * updates in between are not logged (100 % always is). 0 logs every update.
   * @default 1000
   */
  progressLogIntervalMs?: number;
}

/** Options of `instrumentWorker`. */
export interface WorkerOptions {
  /**
   * Close the worker (waiting for its active jobs) in the `drain` phase of
   * `telemetry.shutdown()`, bounded by `shutdown.timeoutMs`.
   * @default false
   */
  closeOnShutdown?: boolean;
  /**
   * Write the worker's `error` events (lost Redis connection, …) as
   * structured `warn` lines, at most one per distinct message per minute.
   * Without a listener BullMQ prints them with `console.error`.
   * @default true
   */
  logErrors?: boolean;
}

/** A `state` value of `queue_depth`. */
export type QueueDepthState = 'waiting' | 'active' | 'delayed' | 'failed' | 'prioritized';

/** Options of `monitorQueueDepth`. */
export interface QueueDepthOptions {
  /**
   * States read per queue.
   * @default ['waiting', 'active', 'delayed', 'failed', 'prioritized']
   */
  states?: readonly QueueDepthState[];
  /**
   * Upper bound of one read of a queue's counts, in ms. Kept below
   * `metrics.collectTimeoutMs` so that a slow Redis is reported here, per
   * queue, rather than as a timeout of the whole collector.
   * @default 1000, at most half of metrics.collectTimeoutMs
   */
  timeoutMs?: number;
  /**
   * Counts read less than this long ago are served from memory, and a queue
   * whose read failed is not asked again before this long (so a dead Redis
   * costs one timeout per interval, not one per scrape).
   * @default 5000
   */
  cacheMs?: number;
}
