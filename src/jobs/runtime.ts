import type { Telemetry } from '../types.js';
import { createRedactor, type Redactor } from '../logging/index.js';

/**
 * What every part of the BullMQ instrumentation shares per `Telemetry`
 * handle: one redactor (built like the logger's, from the same options) and
 * the reporting of faults absorbed inside the instrumentation.
 */
export interface JobsRuntime {
  readonly telemetry: Telemetry;
  /** The redaction engine for span attributes and exception text. */
  readonly redactor: Redactor;
  /**
   * Counts a fault absorbed by the instrumentation in
   * `stacklight_internal_errors_total{component}` and writes one `warn` line
   * per `key` per minute. Never throws.
   */
  fault(component: string, key: string, message: string, err?: unknown): void;
  /** Writes one `warn` line per `key` per minute. Never throws. */
  warn(key: string, message: string): void;
}

/** Shortest interval between two warnings with the same key, in ms. */
const WARN_INTERVAL_MS = 60_000;

const runtimes = new WeakMap<Telemetry, JobsRuntime>();

/** The runtime of `telemetry`, built on first use. */
export function jobsRuntime(telemetry: Telemetry): JobsRuntime {
  let rt = runtimes.get(telemetry);
  if (rt === undefined) {
    rt = createRuntime(telemetry);
    runtimes.set(telemetry, rt);
  }
  return rt;
}

function createRuntime(telemetry: Telemetry): JobsRuntime {
  const redactor = createRedactor({
    keys: telemetry.config.logging.redactKeys,
    maxStringLength: telemetry.config.logging.maxStringLength,
  });
  const lastWarned = new Map<string, number>();
  const warn = (key: string, message: string, fields: object): void => {
    try {
      const now = Date.now();
      const last = lastWarned.get(key);
      if (last !== undefined && now - last < WARN_INTERVAL_MS) return;
      // Bounded: keys are per queue or per fault kind, never per job.
      if (lastWarned.size > 1000) lastWarned.clear();
      lastWarned.set(key, now);
      telemetry.logger.warn(fields, `stacklight: ${message}`);
    } catch {
      // Reporting a fault must never become one.
    }
  };
  return {
    telemetry,
    redactor,
    fault(component, key, message, err) {
      try {
        telemetry.selfMetrics.internalErrorsTotal.inc({ component });
      } catch {
        // Counting a fault must never become one.
      }
      const extra = { stacklight: component };
      warn(key, message, err === undefined ? { extra } : { extra, err });
    },
    warn(key, message) {
      warn(key, message, { extra: { stacklight: 'jobs' } });
    },
  };
}

/** The message of any thrown value, without throwing. */
export function messageOf(err: unknown): string {
  try {
    if (typeof err === 'object' && err !== null && typeof (err as Error).message === 'string') {
      return (err as Error).message;
    }
    return String(err);
  } catch {
    return 'unknown error';
  }
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
