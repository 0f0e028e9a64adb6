import {
  diag,
  trace,
  type Context,
  type SpanContext,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  type TraceState,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import {
  FLAG_RANDOM,
  formatTraceParent,
  isValidSpanId,
  isValidTraceId,
  parseTraceParent,
} from './traceparent.js';
import { parseTraceState, TraceStateList } from './tracestate.js';
import { isRandomTraceId, markRandomTraceId } from './random-traces.js';

/** Header / carrier field name of the W3C trace parent. */
export const TRACEPARENT_HEADER = 'traceparent';
/** Header / carrier field name of the W3C trace state. */
export const TRACESTATE_HEADER = 'tracestate';

const FIELDS: readonly string[] = [TRACEPARENT_HEADER, TRACESTATE_HEADER];

/**
 * A strict W3C Trace Context propagator, a drop-in replacement for
 * OpenTelemetry's `W3CTraceContextPropagator`. The differences are that it
 * follows the spec to the letter:
 *
 * - several `traceparent` values (an array from the getter) are invalid and
 *   start a new trace, where OpenTelemetry takes the first;
 * - a `tracestate` with any invalid member or more than 32 members is dropped
 *   whole, where OpenTelemetry keeps the valid members (of a duplicated key
 *   the first occurrence is kept, as Level 2 allows);
 * - injection rejects uppercase-hex ids (the OTel API check is
 *   case-insensitive) and writes only the `sampled` and `random` flags;
 * - it never throws: bad carriers, getters or setters cost the context, not
 *   the request.
 *
 * Extract sets `{ traceId, spanId, traceFlags, isRemote: true, traceState }`
 * on the context, where `traceState` is a {@link TraceStateList} (omitted when
 * the header is absent, empty or invalid). Inject writes the context's span
 * context unless it is invalid or tracing is suppressed.
 *
 * @example
 * import { propagation } from '@opentelemetry/api';
 * propagation.setGlobalPropagator(new StrictW3CTraceContextPropagator());
 */
export class StrictW3CTraceContextPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    try {
      const spanContext = trace.getSpanContext(ctx);
      if (spanContext === undefined || isTracingSuppressed(ctx)) return;
      const { traceId, spanId } = spanContext;
      if (!isValidTraceId(traceId) || !isValidSpanId(spanId)) return;
      // The random flag by trace id: the SDK does not carry it to children.
      const flags = isRandomTraceId(traceId)
        ? spanContext.traceFlags | FLAG_RANDOM
        : spanContext.traceFlags;
      setter.set(carrier, TRACEPARENT_HEADER, formatTraceParent(traceId, spanId, flags));
      const traceState = serializeTraceState(spanContext.traceState);
      if (traceState.length > 0) setter.set(carrier, TRACESTATE_HEADER, traceState);
    } catch (error) {
      diag.debug('stacklight: traceparent inject failed', error);
    }
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    try {
      const parent = parseTraceParent(single(getter.get(carrier, TRACEPARENT_HEADER)));
      if (parent === undefined) return ctx;
      // Only read tracestate once traceparent is known to be valid (spec MUST).
      const state = parseTraceState(combined(getter.get(carrier, TRACESTATE_HEADER)));
      if ((parent.traceFlags & FLAG_RANDOM) !== 0) markRandomTraceId(parent.traceId);
      const spanContext: SpanContext = {
        traceId: parent.traceId,
        spanId: parent.spanId,
        traceFlags: parent.traceFlags,
        isRemote: true,
        traceState: state !== undefined && state.size > 0 ? state : undefined,
      };
      return trace.setSpanContext(ctx, spanContext);
    } catch (error) {
      diag.debug('stacklight: traceparent extract failed', error);
      return ctx;
    }
  }

  fields(): string[] {
    return FIELDS.slice();
  }
}

/**
 * A lone string, or the only element of a one-element array. Several values
 * of `traceparent` are invalid (new trace), so anything else is `undefined`.
 */
function single(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.length === 1 ? value[0] : undefined;
}

/**
 * Several `tracestate` fields are one list joined with `,` (RFC 7230 field
 * order, as the spec requires). A non-string element makes the whole value
 * invalid, which `parseTraceState` reports as `undefined`.
 */
function combined(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length === 1) return value[0];
  for (const part of value) if (typeof part !== 'string') return undefined;
  return value.join(',');
}

/**
 * Our own lists serialize directly; a foreign `TraceState` (OpenTelemetry's,
 * set by other code) is re-validated so that we never emit a header a strict
 * receiver would reject.
 */
function serializeTraceState(traceState: TraceState | undefined): string {
  if (traceState === undefined) return '';
  if (traceState instanceof TraceStateList) return traceState.serialize();
  return parseTraceState(traceState.serialize())?.serialize() ?? '';
}
