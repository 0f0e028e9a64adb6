import { diag, SpanKind, type Attributes } from '@opentelemetry/api';
import { ConfigError } from '../errors.js';
import { traceCarrier, TRACE_CARRIER_KEY } from '../tracing/carriers.js';
import { SPAN_NAMES } from '../tracing/span-names.js';
import { withSpan } from '../tracing/with-span.js';
import { internalError, type EventEnvelope, type EventsTelemetry } from './envelope.js';
import { isThenable } from '../util/async.js';
import { useMetricFamily } from '../metrics/registry.js';

/** `type` label value of events whose type is not in `OutboxOptions.types`. */
export const OTHER_EVENT_TYPE = 'other';

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  /**
   * The event types this service writes. When given, any other type is
   * counted as `other` in `event_outbox_writes_total`, which keeps the label
   * bounded even if a type is built from data by mistake.
   * @default undefined (every type is its own label value, under the series cap)
   */
  types?: readonly string[];
  /**
   * The clock of `outboxTs`, in ms since the epoch.
   * @default Date.now
   */
  now?: () => number;
}

/** An event to append. */
export interface OutboxEvent<P> {
  type: string;
  payload: P;
  /** Event id, when the service knows it before the insert (a UUID). */
  id?: string;
}

/** The outbox helper. */
export interface Outbox {
  /**
   * Builds the envelope inside an `outbox.append` span and counts the write.
   * Store the envelope (or its `outboxTs` and `_trace`) with the row.
   */
  append<P>(event: OutboxEvent<P>): EventEnvelope<P>;
  /**
   * Builds the envelope and runs `write(envelope)` (the INSERT, inside the
   * caller's transaction) inside the `outbox.append` span; counts the write
   * once `write` returns or its promise resolves, and returns what `write`
   * returns. A failing `write` is recorded on the span and rethrown as is.
   */
  append<P, R>(event: OutboxEvent<P>, write: (envelope: EventEnvelope<P>) => R): R;
}

/**
 * Creates the outbox helper (Core, S3). The envelope's `_trace` is the
 * context of the `outbox.append` span, a child of whatever request or job
 * wrote the event, so the delivery side can link back to it.
 *
 * `event_outbox_writes_total{type}` counts appends whose `write` succeeded.
 * When the transaction around `write` rolls back afterwards the count is one
 * too high; the row count in Postgres stays the source of truth.
 *
 * @example
 * const outbox = createOutbox(telemetry, { types: ['coach.reflection', 'import.progress'] });
 * await db.transaction(async (tx) => {
 *   await tx.insert(reflections).values(reflection);
 *   await outbox.append({ type: 'coach.reflection', payload: { tradeId } }, (envelope) =>
 *     tx.insert(eventOutbox).values({ type: envelope.type, body: envelope }),
 *   );
 * });
 */
export function createOutbox(telemetry: EventsTelemetry, options: OutboxOptions = {}): Outbox {
  const known = options.types === undefined ? undefined : new Set(options.types);
  if (
    options.types !== undefined &&
    !options.types.every((t) => typeof t === 'string' && t !== '')
  ) {
    throw new ConfigError('outbox.types', options.types, 'an array of non-empty event type names');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new ConfigError('outbox.now', options.now, 'a function returning ms since the epoch');
  }
  const now = options.now ?? Date.now;
  const writes = telemetry.metrics.eventOutboxWritesTotal;
  useMetricFamily(telemetry.metrics, 'events');

  const count = (type: string): void => {
    try {
      writes.inc({ type: known === undefined || known.has(type) ? type : OTHER_EVENT_TYPE });
    } catch (error) {
      internalError(telemetry);
      diag.debug('stacklight: counting an outbox write failed', error);
    }
  };

  function append<P, R>(
    event: OutboxEvent<P>,
    write?: (envelope: EventEnvelope<P>) => R,
  ): EventEnvelope<P> | R {
    const attributes: Attributes = { 'event.type': String(event.type) };
    if (event.id !== undefined) attributes['event.id'] = String(event.id);
    return withSpan(
      SPAN_NAMES.outboxAppend.name,
      attributes,
      () => {
        const envelope: EventEnvelope<P> = {
          type: event.type,
          outboxTs: now(),
          payload: event.payload,
        };
        if (event.id !== undefined) envelope.id = event.id;
        // Inside the span: the carrier holds outbox.append's own context.
        const carrier = traceCarrier();
        if (carrier !== undefined) envelope[TRACE_CARRIER_KEY] = carrier;
        if (write === undefined) {
          count(event.type);
          return envelope;
        }
        const result = write(envelope);
        if (isThenable(result)) {
          return result.then((value) => {
            count(event.type);
            return value;
          }) as R;
        }
        count(event.type);
        return result;
      },
      { tracer: telemetry.tracer, kind: SpanKind.INTERNAL },
    );
  }

  return { append: append as Outbox['append'] };
}
