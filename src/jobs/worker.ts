import { ConfigError } from '../errors.js';
import type { Telemetry } from '../types.js';
import { messageOf } from '../util/errors.js';
import { jobsRuntime, warnIfBullMQTelemetry } from './runtime.js';
import type { WorkerLike, WorkerOptions } from './types.js';

const INSTRUMENTED = Symbol.for('stacklight.bullmq.worker');

/**
 * Instruments a BullMQ `Worker` beyond its processor (which
 * {@link instrumentProcessor} wraps): counts `stalled` events in
 * `job_stalled_total{queue}`, writes the worker's `error` events (Redis
 * connection problems) as structured lines, and with `closeOnShutdown`
 * closes the worker gracefully in the `drain` phase of
 * `telemetry.shutdown()`. Returns the same worker; a second call changes
 * nothing.
 *
 * Works with sandboxed workers too (their runs are not traced).
 *
 * @throws {ConfigError} for an invalid option.
 * @example
 * ```ts
 * const worker = instrumentWorker(
 *   telemetry,
 *   new Worker('q_import', instrumentProcessor(telemetry, importTrades), { connection }),
 *   { closeOnShutdown: true },
 * );
 * ```
 */
export function instrumentWorker<W extends WorkerLike>(
  telemetry: Telemetry,
  worker: W,
  options: WorkerOptions = {},
): W {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('instrumentWorker.options', options, 'an options object');
  }
  for (const key of ['closeOnShutdown', 'logErrors'] as const) {
    const v = options[key];
    if (v !== undefined && typeof v !== 'boolean')
      throw new ConfigError(`instrumentWorker.${key}`, v, 'true or false');
  }
  if ((worker as unknown as Record<symbol, unknown>)[INSTRUMENTED] === true) return worker;
  Object.defineProperty(worker, INSTRUMENTED, { value: true, configurable: true });

  const rt = jobsRuntime(telemetry);
  const queue = typeof worker.name === 'string' ? worker.name : '';
  warnIfBullMQTelemetry(rt, worker, `worker of "${queue}"`);

  worker.on('stalled', function stacklightStalled(jobId: string) {
    try {
      telemetry.metrics.jobStalledTotal.inc({ queue });
      telemetry.logger.warn(
        { queue, jobId: typeof jobId === 'string' ? jobId : String(jobId) },
        'job stalled',
      );
    } catch (err) {
      rt.fault('jobs', 'jobs:stalled', `recording a stalled job failed: ${messageOf(err)}`);
    }
  });

  if (options.logErrors !== false) {
    const lastByMessage = new Map<string, number>();
    worker.on('error', function stacklightWorkerError(err: Error) {
      try {
        // A dead Redis emits the same error on every reconnect attempt.
        const key = messageOf(err);
        const now = Date.now();
        const last = lastByMessage.get(key);
        if (last !== undefined && now - last < 60_000) return;
        if (lastByMessage.size > 100) lastByMessage.clear();
        lastByMessage.set(key, now);
        telemetry.logger.warn({ queue, err }, 'worker error');
      } catch {
        // Logging must not turn a Redis error into a crash.
      }
    });
  }

  if (options.closeOnShutdown === true) {
    const remove = telemetry.onShutdown('drain', `bullmq-worker:${queue}`, function closeWorker() {
      return worker.close();
    });
    worker.on('closed', function stacklightWorkerClosed() {
      remove();
    });
  }
  return worker;
}
