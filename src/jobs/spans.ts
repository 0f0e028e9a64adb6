import {
  diag,
  SpanStatusCode,
  type Attributes,
  type Exception,
  type Span,
} from '@opentelemetry/api';
import type { Redactor } from '../logging/index.js';
import { messageOf } from '../util/errors.js';
import { nameOf } from './runtime.js';

/**
 * Span attributes written by the BullMQ instrumentation: OpenTelemetry's
 * messaging conventions plus a few `bullmq.*` ones named like BullMQ's own.
 * Job data, options, progress objects and results are never written: they
 * hold user data, and the redaction engine can only catch what it knows.
 */
export const JOB_ATTRIBUTES = Object.freeze({
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  jobName: 'bullmq.job.name',
  attempt: 'bullmq.job.attempt',
  status: 'bullmq.job.status',
  final: 'bullmq.job.final',
});

/** `messaging.system` of every span. */
export const MESSAGING_SYSTEM = 'bullmq';

/**
 * Name of the consumer span of a job run: `process <queue>` (OpenTelemetry's
 * `{operation} {destination}`, and the name BullMQ's own telemetry uses). The
 * spec names the spans inside a run (`import.page`, `score.trade`, …), not
 * the run itself.
 */
export function processSpanName(queue: string): string {
  return typeof queue === 'string' && queue.length > 0 ? 'process ' + queue : 'process';
}

/** Attributes with every string value scrubbed by the redaction engine. */
export function redactAttributes(redactor: Redactor, attributes: Attributes): Attributes {
  const out: Attributes = {};
  for (const key of Object.keys(attributes)) {
    const v = attributes[key];
    if (v === undefined) continue;
    out[key] = typeof v === 'string' ? redactor.redactString(v) : v;
  }
  return out;
}

/**
 * An exception for `span.recordException` whose message and stack went
 * through the redaction engine (an error message can quote a token or an
 * e-mail address just as a log line can).
 */
export function redactedException(redactor: Redactor, err: unknown): Exception {
  const message = redactor.redactString(messageOf(err));
  const name = nameOf(err) ?? 'Error';
  let stack: string | undefined;
  try {
    const raw = (err as { stack?: unknown } | null)?.stack;
    if (typeof raw === 'string') stack = redactor.redactString(raw);
  } catch {
    // A throwing getter: no stack.
  }
  return stack === undefined ? { name, message } : { name, message, stack };
}

/** Records `err` (redacted), sets status ERROR and ends the span. Never throws. */
export function endSpanWithError(span: Span, redactor: Redactor, err: unknown): void {
  try {
    const exception = redactedException(redactor, err);
    span.recordException(exception);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: (exception as { message: string }).message,
    });
    span.end();
  } catch (failure) {
    diag.debug('stacklight: ending a job span failed', failure);
  }
}

/** Ends the span. Never throws. */
export function endSpan(span: Span): void {
  try {
    span.end();
  } catch (failure) {
    diag.debug('stacklight: ending a job span failed', failure);
  }
}
