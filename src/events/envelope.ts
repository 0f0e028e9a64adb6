import { isSpanContextValid, ROOT_CONTEXT, trace, type Link } from '@opentelemetry/api';
import { partsOf } from '../handle-parts.js';
import type { Telemetry } from '../types.js';
import { contextFromCarrier, type TraceCarrier } from '../tracing/carriers.js';

/**
 * The part of the `Telemetry` handle the event helpers use (structural, so
 * tests and custom wiring can pass their own; `init()`'s handle fits).
 */
export type EventsTelemetry = Pick<Telemetry, 'metrics' | 'tracer'> &
  Partial<Pick<Telemetry, 'selfMetrics'>>;

/**
 * An event as it is stored in the outbox row and sent over SSE and
 * WebSocket: plain JSON, so it survives Postgres `jsonb`, Redis and the wire
 * unchanged.
 *
 * ```json
 * { "type": "coach.reflection", "outboxTs": 1767225600000, "payload": { "tradeId": "t_1" },
 *   "_trace": { "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" } }
 * ```
 */
export interface EventEnvelope<P = unknown> {
  /** Event id (usually the outbox row id); the SSE `id:` and `Last-Event-ID`. */
  id?: string;
  /** Event type (`coach.reflection`, `import.progress`). */
  type: string;
  /** When the event was written to the outbox, in ms since the epoch (`outbox_ts`). */
  outboxTs: number;
  payload: P;
  /** W3C trace context of the `outbox.append` span (see `TRACE_CARRIER_KEY`). */
  _trace?: TraceCarrier;
}

/**
 * What the delivery side accepts: an envelope read back from storage or the
 * wire, whose fields are checked rather than trusted.
 */
export interface EnvelopeLike {
  id?: unknown;
  type?: unknown;
  outboxTs?: unknown;
  _trace?: unknown;
}

/**
 * An outbox timestamp as ms since the epoch: a finite number (ms), a `Date`,
 * or an ISO-8601 string (a Postgres `timestamptz` read as text). `undefined`
 * for anything else.
 */
export function timestampMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isFinite(t) ? t : undefined;
  }
  if (typeof value === 'string' && value.length > 0 && value.length < 64) {
    const t = Date.parse(value);
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

/**
 * The link to the span that wrote the event (`outbox.append`), or none when
 * the envelope carries no valid trace context.
 */
export function originLink(envelope: EnvelopeLike | null | undefined): Link[] | undefined {
  if (envelope === null || typeof envelope !== 'object') return undefined;
  const origin = trace.getSpanContext(contextFromCarrier(envelope._trace, ROOT_CONTEXT));
  if (origin === undefined || !isSpanContextValid(origin)) return undefined;
  return [{ context: origin }];
}

/** A short string attribute from an untrusted field, or `undefined`. */
export function stringField(value: unknown, max = 200): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string' || value.length === 0) return undefined;
  return value.length > max ? value.slice(0, max) : value;
}

/** Counts an absorbed telemetry failure (`component="events"`); never throws. */
export function internalError(telemetry: EventsTelemetry): void {
  partsOf(telemetry).errors.count('events');
}
