import { partsOf } from '../handle-parts.js';
import type { Telemetry } from '../types.js';
import type { InternalErrors } from '../internal-errors.js';
import type { Redactor } from '../logging/index.js';
import { useMetricFamily } from '../metrics/registry.js';

/**
 * What every part of the BullMQ instrumentation shares per `Telemetry`
 * handle: the handle's redactor (the logger's) and its internal error
 * reporter (`fault` counts in `stacklight_internal_errors_total{component}`
 * and warns at most once per key per minute; never throws).
 */
export interface JobsRuntime extends Pick<InternalErrors, 'fault' | 'warn'> {
  readonly telemetry: Telemetry;
  /** The redaction engine for span attributes and exception text. */
  readonly redactor: Redactor;
}

const runtimes = new WeakMap<Telemetry, JobsRuntime>();

/** The runtime of `telemetry`, built on first use. */
export function jobsRuntime(telemetry: Telemetry): JobsRuntime {
  let rt = runtimes.get(telemetry);
  if (rt === undefined) {
    // The job metrics show from the first job helper on (zeros included).
    useMetricFamily(telemetry.metrics, 'jobs');
    const { redactor, errors } = partsOf(telemetry);
    rt = { telemetry, redactor, fault: errors.fault, warn: errors.warn };
    runtimes.set(telemetry, rt);
  }
  return rt;
}

/** The `name` of an error-like value, or `undefined`. */
export function nameOf(err: unknown): string | undefined {
  try {
    if (typeof err === 'object' && err !== null) {
      const name = (err as { name?: unknown }).name;
      if (typeof name === 'string') return name;
    }
  } catch {
    // A throwing getter: no name.
  }
  return undefined;
}

/**
 * BullMQ's own `telemetry` option (BullMQ ≥ 5.22, e.g. `bullmq-otel`) next to
 * stacklight's instrumentation doubles every producer and consumer span, adds
 * a span per worker poll, and writes job results and options into span
 * attributes (`bullmq.job.result`, `bullmq.job.options`) that no redaction
 * sees. Warned once per instance kind.
 */
export function warnIfBullMQTelemetry(rt: JobsRuntime, target: object, what: string): void {
  try {
    const opts = (target as { opts?: { telemetry?: unknown } }).opts;
    if (opts?.telemetry === undefined || opts.telemetry === null) return;
    rt.warn(
      `bullmq-telemetry:${what}`,
      `BullMQ's own telemetry option is set on ${what}: its spans duplicate stacklight's and carry job ` +
        'results and options unredacted (bullmq.job.result). Fix: remove the telemetry option; stacklight/bullmq traces queues and workers itself.',
    );
  } catch {
    // Inspecting options must never fail the instrumentation.
  }
}
