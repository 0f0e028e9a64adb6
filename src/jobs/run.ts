import {
  context,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { runWithContext, type TelemetryContext } from '../context.js';
import { extractContext } from '../tracing/index.js';
import { openCacheSlot, type JobCacheState } from './cache-state.js';
import type { JobLabelFn } from './job-label.js';
import { messageOf } from '../util/errors.js';
import { nameOf, type JobsRuntime } from './runtime.js';
import {
  endSpan,
  endSpanWithError,
  JOB_ATTRIBUTES,
  MESSAGING_SYSTEM,
  processSpanName,
  redactAttributes,
} from './spans.js';
import type { JobLike, TraceMode } from './types.js';

/** Settings of one instrumented processor, resolved once. */
export interface RunSettings {
  readonly traceMode: TraceMode;
  readonly jobLabel: JobLabelFn;
  readonly broker: ((job: JobLike) => string | undefined) | undefined;
  readonly progressLogIntervalMs: number;
}

/** How a run ended, as the `status` label and the `extra.status` log field. */
export type RunStatus = 'completed' | 'failed' | 'deferred';

/**
 * Errors a processor throws on purpose to move its job elsewhere (delayed,
 * waiting for children, rate limited): the run ends, the job has not failed.
 * Matched by name because BullMQ 5 and 6 each have their own classes.
 */
const DEFERRING_ERRORS: ReadonlySet<string> = new Set([
  'DelayedError',
  'WaitingError',
  'WaitingChildrenError',
  'RateLimitError',
]);
const RATE_LIMIT_MESSAGE = 'bullmq:rateLimitExceeded';

/** Outcome of a run that threw. */
export function outcomeOf(err: unknown): 'failed' | 'deferred' {
  const name = nameOf(err);
  if (name !== undefined && DEFERRING_ERRORS.has(name)) return 'deferred';
  return messageOf(err) === RATE_LIMIT_MESSAGE ? 'deferred' : 'failed';
}

/**
 * Whether a failed run leaves no attempt: an `UnrecoverableError`, a
 * discarded job, or the last of `opts.attempts` (default 1).
 */
export function isFinalFailure(job: JobLike, err: unknown, attempt: number): boolean {
  if (nameOf(err) === 'UnrecoverableError') return true;
  try {
    if ((job as { discarded?: unknown }).discarded === true) return true;
    const max = job.opts?.attempts;
    return attempt >= (typeof max === 'number' && max >= 1 ? Math.floor(max) : 1);
  } catch {
    return true;
  }
}

/**
 * One run (attempt) of one job: its span, its job context, its metrics and
 * its log lines. Built before the processor is called; every method is
 * guarded so that a telemetry fault never reaches the processor or BullMQ.
 */
export class JobRun {
  private readonly rt: JobsRuntime;
  private readonly settings: RunSettings;
  private readonly job: JobLike;
  private readonly labels: { readonly queue: string; readonly job: string };
  private readonly attempt: number;
  private readonly span: Span;
  private readonly spanContext: Context;
  private readonly jobContext: TelemetryContext;
  private started = 0;
  private finished = false;
  private lastProgressLog = -Infinity;
  private restoreProgress: (() => void) | undefined;
  private readonly cacheSlot: { cache: JobCacheState | undefined };

  constructor(rt: JobsRuntime, settings: RunSettings, job: JobLike) {
    this.rt = rt;
    this.settings = settings;
    this.job = job;
    const queue = typeof job.queueName === 'string' ? job.queueName : '';
    const name = typeof job.name === 'string' ? job.name : '';
    const made = job.attemptsMade;
    this.attempt = (typeof made === 'number' && Number.isInteger(made) && made >= 0 ? made : 0) + 1;
    this.labels = { queue, job: settings.jobLabel(name, queue) };
    const id = job.id === undefined || job.id === null ? undefined : String(job.id);
    this.jobContext = { queue, job: name, jobId: id, attempt: this.attempt };
    this.cacheSlot = openCacheSlot(this.jobContext);

    // A run never inherits the ambient context of the worker loop: its
    // parent is what the producer wrote into the job, or nothing.
    const carried = extractContext(job.data, 'job', ROOT_CONTEXT);
    const producer = trace.getSpanContext(carried);
    const link = settings.traceMode === 'link';
    // Link mode keeps the baggage but not the span: a new trace, linked.
    const parent = link ? trace.deleteSpan(carried) : carried;
    const links: Link[] | undefined =
      link && producer !== undefined && isSpanContextValid(producer)
        ? [{ context: producer }]
        : undefined;
    const attributes = redactAttributes(rt.redactor, {
      [JOB_ATTRIBUTES.system]: MESSAGING_SYSTEM,
      [JOB_ATTRIBUTES.destination]: queue,
      [JOB_ATTRIBUTES.operationType]: 'process',
      [JOB_ATTRIBUTES.operationName]: 'process',
      [JOB_ATTRIBUTES.messageId]: id,
      [JOB_ATTRIBUTES.jobName]: name,
      [JOB_ATTRIBUTES.attempt]: this.attempt,
    });
    this.span = rt.telemetry.tracer.startSpan(
      processSpanName(queue),
      { kind: SpanKind.CONSUMER, attributes, links, root: link },
      parent,
    );
    this.spanContext = trace.setSpan(parent, this.span);
  }

  /** Runs `call` (the processor) inside the job context and the run's span. */
  execute<T>(call: () => T): Promise<Awaited<T>> {
    return runWithContext(this.jobContext, () =>
      context.with(this.spanContext, () => this.run(call)),
    );
  }

  private async run<T>(call: () => T): Promise<Awaited<T>> {
    this.begin();
    let result: Awaited<T>;
    try {
      result = await call();
    } catch (err) {
      this.end(outcomeOf(err), err);
      throw err;
    }
    this.end('completed', undefined);
    return result;
  }

  private begin(): void {
    this.started = performance.now();
    try {
      const { metrics } = this.rt.telemetry;
      metrics.jobAttemptsTotal.inc(this.labels);
      if (this.attempt > 1) metrics.jobRetriesTotal.inc(this.labels);
      this.watchProgress();
      this.rt.telemetry.logger.info('job started');
    } catch (err) {
      this.rt.fault('jobs', 'jobs:run', `recording a job start failed: ${messageOf(err)}`);
    }
  }

  private end(status: RunStatus, err: unknown): void {
    this.finished = true;
    const latency = Math.round((performance.now() - this.started) * 1000) / 1000;
    try {
      this.restoreProgress?.();
      const { metrics, logger } = this.rt.telemetry;
      metrics.jobDurationMs.observe({ ...this.labels, status }, latency);
      this.span.setAttribute(JOB_ATTRIBUTES.status, status);
      if (status === 'completed') {
        this.completion('completed');
        logger.info({ latency_ms: latency, extra: { status } }, 'job completed');
        endSpan(this.span);
      } else if (status === 'deferred') {
        logger.info(
          { latency_ms: latency, extra: { status, reason: nameOf(err) ?? 'deferred' } },
          'job deferred',
        );
        endSpan(this.span);
      } else {
        const final = isFinalFailure(this.job, err, this.attempt);
        metrics.jobFailuresTotal.inc({ ...this.labels, final: final ? 'true' : 'false' });
        if (final) this.completion('failed');
        this.span.setAttribute(JOB_ATTRIBUTES.final, final);
        // The one line for this error: `err` is serialized into the spec's
        // error.* fields by the logger. A failure that will be retried is a
        // warning; the last one is an error.
        logger[final ? 'error' : 'warn'](
          { err, latency_ms: latency, extra: { status, final } },
          'job failed',
        );
        endSpanWithError(this.span, this.rt.redactor, err);
        // A job failing for good goes to Sentry (a no-op without it), tagged
        // with queue, job and jobId from the run's context.
        if (final) {
          this.rt.telemetry.captureException(err, {
            tags: { attempt: String(this.attempt) },
            extra: { queue: this.labels.queue, jobLabel: this.labels.job },
          });
        }
      }
    } catch (failure) {
      this.rt.fault('jobs', 'jobs:run', `recording a job end failed: ${messageOf(failure)}`);
      endSpan(this.span);
    }
  }

  /**
   * The job's end to end time, from being added (`job.timestamp`) to the end
   * of its last run: queue wait, delays, backoff and every attempt. Only
   * the last run of a job records it, so each job counts once.
   */
  private completion(status: 'completed' | 'failed'): void {
    const added = this.job.timestamp;
    if (typeof added !== 'number' || !Number.isFinite(added) || added <= 0) return;
    const seconds = Math.max(0, Date.now() - added) / 1000;
    this.rt.telemetry.metrics.jobCompletionDurationSeconds.observe(
      { ...this.labels, status, cache: this.cacheSlot.cache ?? 'none' },
      seconds,
    );
  }

  /**
   * Wraps this job's `updateProgress` for the duration of the run: each
   * update becomes a span event and (throttled) a `job progress` log line.
   */
  private watchProgress(): void {
    const job = this.job as unknown as Record<string, unknown>;
    const original = job['updateProgress'];
    if (typeof original !== 'function') return;
    const hadOwn = Object.prototype.hasOwnProperty.call(job, 'updateProgress');
    const onProgress = (progress: unknown): void => this.progress(progress);
    function stacklightUpdateProgress(this: unknown, progress: unknown): unknown {
      onProgress(progress);
      return (original as (p: unknown) => unknown).call(this, progress);
    }
    Object.defineProperty(job, 'updateProgress', {
      value: stacklightUpdateProgress,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    this.restoreProgress = () => {
      if (hadOwn)
        Object.defineProperty(job, 'updateProgress', {
          value: original,
          writable: true,
          configurable: true,
        });
      else delete job['updateProgress'];
    };
  }

  private progress(progress: unknown): void {
    if (this.finished) return;
    try {
      const numeric =
        typeof progress === 'number' && Number.isFinite(progress) ? progress : undefined;
      this.span.addEvent(
        'job progress',
        numeric === undefined ? undefined : { 'bullmq.job.progress': numeric },
      );
      const now = performance.now();
      const done = numeric !== undefined && numeric >= 100;
      if (!done && now - this.lastProgressLog < this.settings.progressLogIntervalMs) return;
      this.lastProgressLog = now;
      const broker = this.brokerOf();
      this.rt.telemetry.logger.info(
        broker === undefined ? { extra: { progress } } : { broker, extra: { progress } },
        'job progress',
      );
    } catch (err) {
      this.rt.fault('jobs', 'jobs:progress', `recording job progress failed: ${messageOf(err)}`);
    }
  }

  private brokerOf(): string | undefined {
    const pick = this.settings.broker;
    try {
      if (pick !== undefined) {
        const b = pick(this.job);
        return typeof b === 'string' && b !== '' ? b : undefined;
      }
      const data = this.job.data as { broker?: unknown } | null | undefined;
      const b = data !== null && typeof data === 'object' ? data.broker : undefined;
      return typeof b === 'string' && b !== '' ? b : undefined;
    } catch (err) {
      this.rt.fault('jobs', 'jobs:broker', `the broker option failed: ${messageOf(err)}`);
      return undefined;
    }
  }
}
