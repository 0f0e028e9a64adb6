import { ConfigError } from '../errors.js';
import type { Telemetry } from '../types.js';
import { jobLabelResolver } from './job-label.js';
import { JobRun, type RunSettings } from './run.js';
import { messageOf } from '../util/errors.js';
import { jobsRuntime } from './runtime.js';
import type { Job } from 'bullmq';
import type { JobLike, ProcessorOptions } from './types.js';

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

const TRACE_MODES: ReadonlySet<unknown> = new Set(['parent', 'link']);

/** Default of `progressLogIntervalMs`. */
export const DEFAULT_PROGRESS_LOG_INTERVAL_MS = 1000;

/**
 * Wraps a BullMQ processor function so that every run (attempt) of every
 * job:
 *
 * - continues the producer's trace in a `process <queue>` span (kind
 *   CONSUMER): a child of `enqueue <queue>` in `parent` mode (default), a new
 *   trace linked to it in `link` mode;
 * - runs in the job context: every log line written inside carries `queue`,
 *   `job`, `jobId`, `attempt`, `traceId` and `spanId`;
 * - writes `job started`, then `job completed` / `job deferred` (info) or
 *   `job failed` (warn while attempts are left, error for the last one, with
 *   the error in the spec's `error.*` fields), each end line with
 *   `latency_ms` and `extra.status`;
 * - records `job_duration_ms{queue,job,status}`, `job_attempts_total`,
 *   `job_retries_total` and `job_failures_total{final}`;
 * - turns `job.updateProgress(n)` into a span event and a throttled
 *   `job progress` line (`broker`, `extra.progress`).
 *
 * The processor's result and errors pass through unchanged, as does `this`;
 * a fault inside stacklight costs telemetry, never the job. Sandboxed
 * processors (a file path) cannot be wrapped: instrument the function the
 * file exports instead.
 *
 * @throws {ConfigError} for an invalid option (at wrap time, never per job).
 * @example
 * ```ts
 * import { Worker } from 'bullmq';
 * import { instrumentProcessor } from 'stacklight/bullmq';
 *
 * const worker = new Worker('q_import', instrumentProcessor(telemetry, async (job) => {
 *   telemetry.logger.info({ broker: job.data.broker }, 'importing'); // carries queue, job, jobId, attempt, traceId
 *   await job.updateProgress(50);
 * }), { connection });
 * ```
 */
export function instrumentProcessor<J extends JobLike = Job, R = unknown>(
  telemetry: Telemetry,
  processor: (job: J, token?: string, signal?: AbortSignal) => R,
  options: ProcessorOptions = {},
): (job: J, token?: string, signal?: AbortSignal) => Promise<Awaited<R>> {
  if (typeof processor !== 'function') {
    throw new ConfigError(
      'instrumentProcessor.processor',
      processor,
      'a processor function (a sandboxed processor file cannot be wrapped; wrap the function it exports)',
    );
  }
  const settings = resolveSettings(telemetry, options);
  const rt = jobsRuntime(telemetry);
  const fn = processor as unknown as AnyFn;

  const wrapped = function stacklightProcessor(
    this: unknown,
    job: unknown,
    token?: unknown,
    signal?: unknown,
  ): unknown {
    let run: JobRun;
    try {
      run = new JobRun(rt, settings, job as JobLike);
    } catch (err) {
      rt.fault('jobs', 'jobs:run', `instrumenting a job run failed: ${messageOf(err)}`);
      try {
        return Promise.resolve(fn.call(this, job, token, signal));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    return run.execute(() => fn.call(this, job, token, signal));
  };
  // BullMQ decides whether to create an AbortSignal from the processor's
  // arity (`processor.length`); keep the caller's.
  Object.defineProperty(wrapped, 'length', { value: processor.length });
  return wrapped as unknown as (
    job: J,
    token?: string,
    signal?: AbortSignal,
  ) => Promise<Awaited<R>>;
}

function resolveSettings(telemetry: Telemetry, options: ProcessorOptions): RunSettings {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('instrumentProcessor.options', options, 'an options object');
  }
  const traceMode = options.traceMode ?? 'parent';
  if (!TRACE_MODES.has(traceMode)) {
    throw new ConfigError('instrumentProcessor.traceMode', traceMode, 'one of parent, link');
  }
  const interval = options.progressLogIntervalMs ?? DEFAULT_PROGRESS_LOG_INTERVAL_MS;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 0) {
    throw new ConfigError(
      'instrumentProcessor.progressLogIntervalMs',
      interval,
      'a finite number >= 0',
    );
  }
  if (options.broker !== undefined && typeof options.broker !== 'function') {
    throw new ConfigError(
      'instrumentProcessor.broker',
      options.broker,
      'a function (job) => string | undefined',
    );
  }
  const rt = jobsRuntime(telemetry);
  return {
    traceMode,
    jobLabel: jobLabelResolver(options.jobLabel, (err) =>
      rt.fault('jobs', 'jobs:jobLabel', `the jobLabel function failed: ${messageOf(err)}`),
    ),
    broker: options.broker,
    progressLogIntervalMs: interval,
  };
}
