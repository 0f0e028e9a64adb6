import {
  context,
  defaultTextMapSetter,
  diag,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator } from '@opentelemetry/core';
import { StrictW3CTraceContextPropagator } from './propagator.js';

/**
 * Trace context across every hop of the product (Edge → Core → Workers → AI
 * Coach): HTTP headers, fetch `Headers`, BullMQ job data, outbox rows and
 * WebSocket/SSE event envelopes.
 *
 * Nothing here needs a global propagator: the functions use a module-level
 * composite of {@link StrictW3CTraceContextPropagator} and OpenTelemetry's
 * `W3CBaggagePropagator`, and {@link createTraceCarriers} binds them to any
 * other propagator. None of them throws; a bad carrier costs the context only.
 */

/**
 * The field under which job data, outbox rows and event envelopes carry their
 * {@link TraceCarrier}:
 *
 * ```json
 * { "tradeId": "t_1", "_trace": { "traceparent": "00-…-01", "tracestate": "congo=t61", "baggage": "tenant=a" } }
 * ```
 *
 * The leading underscore keeps it apart from domain fields, and the value is
 * plain JSON so it survives Redis, Postgres `jsonb` and the wire unchanged.
 */
export const TRACE_CARRIER_KEY = '_trace';

/**
 * W3C trace context as plain data, as stored under {@link TRACE_CARRIER_KEY}.
 * Every field is optional: `traceparent` is absent when there is no valid span
 * context (baggage may still travel), and a custom propagator given to
 * {@link createTraceCarriers} may add its own fields.
 */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
  baggage?: string;
  [field: string]: string | undefined;
}

/** An object that carries a {@link TraceCarrier} under {@link TRACE_CARRIER_KEY}. */
export interface TraceCarrierHolder {
  [TRACE_CARRIER_KEY]?: TraceCarrier | undefined;
}

/** The subset of fetch `Headers` used here. */
export interface HeadersLike {
  get(name: string): string | null;
  set(name: string, value: string): void;
}

/**
 * Where the context lives:
 * - `http`, `record`: a header object (Node `IncomingHttpHeaders` /
 *   `OutgoingHttpHeaders`, a `Record<string, string>`); values may be arrays;
 *   names are matched case-insensitively.
 * - `fetch`: a fetch `Headers` (or anything with `get`/`set`).
 * - `job`, `envelope`: an object holding a {@link TraceCarrier} under
 *   {@link TRACE_CARRIER_KEY} (BullMQ job data, outbox rows, WS/SSE envelopes).
 *
 * When omitted it is inferred: `get`/`set` functions → `fetch`; an own
 * `_trace` property → `job`; any other object → `record`. Pass `job` or
 * `envelope` explicitly to inject into an object that has no `_trace` yet.
 */
export type CarrierKind = 'http' | 'fetch' | 'record' | 'job' | 'envelope';

/** The carrier helpers bound to one propagator. */
export interface TraceCarriers {
  /**
   * The context found in `carrier`, on top of `base` (default: the active
   * context). Invalid or absent trace context returns `base` unchanged, so the
   * next span starts a new trace (pass `ROOT_CONTEXT` as `base` to be sure).
   */
  extractContext(carrier: unknown, kind?: CarrierKind, base?: Context): Context;
  /** Writes `ctx` (default: active) into `carrier` and returns `carrier`. */
  injectContext<T extends object>(carrier: T, ctx?: Context, kind?: CarrierKind): T;
  /** `ctx` (default: active) as a {@link TraceCarrier}, or `undefined` when there is nothing to carry. */
  traceCarrier(ctx?: Context): TraceCarrier | undefined;
  /** The context held by a {@link TraceCarrier} (the value of `_trace`), on top of `base`. */
  contextFromCarrier(carrier: unknown, base?: Context): Context;
}

/**
 * A new propagator for `traceparent`, `tracestate` and `baggage`: the strict
 * trace-context propagator composed with OpenTelemetry's baggage propagator.
 * Suitable for `propagation.setGlobalPropagator`.
 *
 * @example
 * propagation.setGlobalPropagator(createW3CPropagator());
 */
export function createW3CPropagator(): TextMapPropagator {
  return new CompositePropagator({
    propagators: [new StrictW3CTraceContextPropagator(), new W3CBaggagePropagator()],
  });
}

/**
 * The carrier helpers bound to `propagator` (for example one that also speaks
 * B3). The module-level functions use {@link createW3CPropagator}'s.
 *
 * @example
 * const carriers = createTraceCarriers(myPropagator);
 * const ctx = carriers.extractContext(req.headers, 'http');
 */
export function createTraceCarriers(propagator: TextMapPropagator): TraceCarriers {
  return {
    extractContext: (carrier, kind, base) => extractWith(propagator, carrier, kind, base),
    injectContext: (carrier, ctx, kind) => injectWith(propagator, carrier, ctx, kind),
    traceCarrier: (ctx) => carrierWith(propagator, ctx),
    contextFromCarrier: (carrier, base) => fromCarrierWith(propagator, carrier, base),
  };
}

const defaultPropagator = /* @__PURE__ */ createW3CPropagator();

/**
 * Reads trace context (and baggage) from any carrier kind.
 *
 * @example
 * // Fastify / Express / node:http
 * const ctx = extractContext(req.headers, 'http');
 * // BullMQ worker
 * const ctx = extractContext(job.data, 'job');
 * context.with(ctx, () => withSpan('import.page', {}, run));
 */
export function extractContext(carrier: unknown, kind?: CarrierKind, base?: Context): Context {
  return extractWith(defaultPropagator, carrier, kind, base);
}

/**
 * Writes the trace context (default: active) into a carrier and returns the
 * carrier. For `job`/`envelope` it sets (or, when there is nothing to carry,
 * removes) the `_trace` field so a stale context is never sent on.
 *
 * @example
 * await fetch(url, { headers: injectContext(new Headers()) });
 * await queue.add('import.trades', injectContext({ userId }, undefined, 'job'));
 */
export function injectContext<T extends object>(carrier: T, ctx?: Context, kind?: CarrierKind): T {
  return injectWith(defaultPropagator, carrier, ctx, kind);
}

/**
 * The trace context (default: active) as plain data, for an outbox row or an
 * event envelope; `undefined` when there is nothing to carry.
 *
 * @example
 * outbox.insert({ type: 'trade.scored', payload, [TRACE_CARRIER_KEY]: traceCarrier() });
 */
export function traceCarrier(ctx?: Context): TraceCarrier | undefined {
  return carrierWith(defaultPropagator, ctx);
}

/**
 * The context held by a {@link TraceCarrier} (the value of a `_trace` field).
 *
 * @example
 * const ctx = contextFromCarrier(envelope._trace);
 */
export function contextFromCarrier(carrier: unknown, base?: Context): Context {
  return fromCarrierWith(defaultPropagator, carrier, base);
}

function extractWith(
  propagator: TextMapPropagator,
  carrier: unknown,
  kind: CarrierKind | undefined,
  base: Context | undefined,
): Context {
  const ctx = base ?? context.active();
  try {
    if (carrier === null || typeof carrier !== 'object') return ctx;
    switch (kind ?? inferKind(carrier)) {
      case 'fetch':
        return propagator.extract(ctx, carrier, headersGetter);
      case 'job':
      case 'envelope':
        return fromCarrierWith(propagator, (carrier as TraceCarrierHolder)[TRACE_CARRIER_KEY], ctx);
      default:
        return propagator.extract(ctx, carrier, recordGetter);
    }
  } catch (error) {
    diag.debug('stacklight: extracting trace context failed', error);
    return ctx;
  }
}

function injectWith<T extends object>(
  propagator: TextMapPropagator,
  carrier: T,
  ctx: Context | undefined,
  kind: CarrierKind | undefined,
): T {
  try {
    if (carrier === null || typeof carrier !== 'object') return carrier;
    const source = ctx ?? context.active();
    switch (kind ?? inferKind(carrier)) {
      case 'fetch':
        propagator.inject(source, carrier, headersSetter);
        break;
      case 'job':
      case 'envelope': {
        const holder = carrier as TraceCarrierHolder;
        const data = carrierWith(propagator, source);
        if (data !== undefined) holder[TRACE_CARRIER_KEY] = data;
        else if (TRACE_CARRIER_KEY in holder) delete holder[TRACE_CARRIER_KEY];
        break;
      }
      default:
        propagator.inject(source, carrier, defaultTextMapSetter);
    }
  } catch (error) {
    diag.debug('stacklight: injecting trace context failed', error);
  }
  return carrier;
}

function carrierWith(
  propagator: TextMapPropagator,
  ctx: Context | undefined,
): TraceCarrier | undefined {
  try {
    const out: TraceCarrier = {};
    propagator.inject(ctx ?? context.active(), out, defaultTextMapSetter);
    for (const _ in out) return out;
  } catch (error) {
    diag.debug('stacklight: building trace carrier failed', error);
  }
  return undefined;
}

function fromCarrierWith(
  propagator: TextMapPropagator,
  carrier: unknown,
  base: Context | undefined,
): Context {
  const ctx = base ?? context.active();
  if (carrier === null || typeof carrier !== 'object' || Array.isArray(carrier)) return ctx;
  try {
    return propagator.extract(ctx, carrier, carrierGetter);
  } catch (error) {
    diag.debug('stacklight: extracting trace carrier failed', error);
    return ctx;
  }
}

function inferKind(carrier: object): CarrierKind {
  const maybe = carrier as Partial<HeadersLike>;
  if (typeof maybe.get === 'function' && typeof maybe.set === 'function') return 'fetch';
  if (Object.prototype.hasOwnProperty.call(carrier, TRACE_CARRIER_KEY)) return 'job';
  return 'record';
}

type HeaderValue = string | string[] | undefined;

/** Header values are strings or string arrays; anything else is treated as absent. */
function headerValue(value: unknown): HeaderValue {
  return typeof value === 'string' || Array.isArray(value) ? (value as HeaderValue) : undefined;
}

/**
 * Header records: exact (lowercase) name first, which is what Node produces,
 * then a case-insensitive scan, since header names are case-insensitive and
 * hand-built records are not always lowercase.
 */
const recordGetter: TextMapGetter<Record<string, unknown>> = {
  get(carrier, key) {
    const exact = carrier[key];
    if (exact !== undefined) return headerValue(exact);
    for (const name in carrier) {
      if (name.length === key.length && name.toLowerCase() === key)
        return headerValue(carrier[name]);
    }
    return undefined;
  },
  keys(carrier) {
    return Object.keys(carrier);
  },
};

/** fetch `Headers` joins repeated fields with ", ", which the parsers handle per spec. */
const headersGetter: TextMapGetter<HeadersLike> = {
  get(carrier, key) {
    return carrier.get(key) ?? undefined;
  },
  keys(carrier) {
    const iterable = carrier as Partial<{ keys(): Iterable<string> }>;
    return typeof iterable.keys === 'function' ? Array.from(iterable.keys()) : [];
  },
};

const headersSetter: TextMapSetter<HeadersLike> = {
  set(carrier, key, value) {
    carrier.set(key, value);
  },
};

/** A {@link TraceCarrier} comes from JSON: only string fields count. */
const carrierGetter: TextMapGetter<Record<string, unknown>> = {
  get(carrier, key) {
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
  keys(carrier) {
    return Object.keys(carrier);
  },
};
