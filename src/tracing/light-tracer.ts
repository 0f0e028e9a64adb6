/**
 * The tracer that makes {@link LightSpan}s: `startSpan` with the decisions of
 * the SDK 2.x `Tracer.startSpan` — suppressed tracing, parent from the
 * context (or none with `root`), ids, the sampler called with the arguments
 * the SDK gives it, and the non-recording span the SDK returns when the
 * sampler drops. Only what the HTTP middleware needs: no `startActiveSpan`.
 */
import {
  context as contextApi,
  diag,
  INVALID_SPAN_CONTEXT,
  SamplingDecision,
  SpanKind,
  trace,
  TraceFlags,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type TraceState,
} from '@opentelemetry/api';
import { isTracingSuppressed, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { IdGenerator, ReadableSpan, Sampler, SpanLimits } from '@opentelemetry/sdk-trace-base';
import { ids } from './ids.js';
import { LightSpan, LightSpanShared } from './light-span.js';
import { checkStartAttributes, sanitizeAttributes, warnInvalid } from './span-values.js';

/**
 * For a parent span context (a valid one, or `undefined` for a root): `true`
 * when the sampler is certain to return NOT_RECORD.
 */
export type DropsFn = (parent: SpanContext | undefined) => boolean;

/** Options of {@link createLightTracer}. */
export interface LightTracerOptions {
  /** The provider's sampler (the same object). */
  sampler: Sampler;
  /** The provider's resolved span limits (see `sdkSpanLimits`). */
  spanLimits: SpanLimits;
  resource: Resource;
  /** The SDK tracer's scope object, so that its spans and these share one `ScopeSpans`. */
  instrumentationScope: InstrumentationScope;
  /** Called once per recording span when it ends (the span processors' `onEnd`). */
  onEnd(span: ReadableSpan): void;
  /** @default the process's pooled generator, which the provider uses too */
  idGenerator?: IdGenerator;
  /**
   * The sampler keeps no reference to the attributes object it is given (true
   * of the SDK's samplers). A span may then keep that object, when it holds
   * what the span would copy into its own, instead of building another.
   * @default false
   */
  samplerKeepsNoAttributes?: boolean;
  /**
   * Where the sampler surely drops (and does nothing else: true of the SDK's
   * samplers), it is not called and the start attributes are only checked
   * for the SDK's warnings, not copied (a dropped server span is the common
   * case of an unsampled service: one copy fewer per request).
   * @default the sampler is always called
   */
  drops?: DropsFn;
}

/**
 * A `SpanOptions` flag: its `attributes` object is handed over — made for
 * this call, holding only valid attribute values, never used by the caller
 * again — so, with a sampler that keeps no reference to it, the tracer skips
 * the defensive copy the SDK makes (the HTTP server span's attributes).
 */
export const OWNED_ATTRIBUTES: unique symbol = Symbol('stacklight.span.ownedAttributes');

/** `SpanOptions` with the {@link OWNED_ATTRIBUTES} flag. */
export type OwnedSpanOptions = SpanOptions & { [OWNED_ATTRIBUTES]?: boolean };

/** The part of a `Tracer` the middleware uses. */
export interface LightTracer {
  startSpan(name: string, options?: SpanOptions, context?: Context): Span;
  /**
   * The non-recording span `startSpan(…, ctx)` would return when the sampler
   * is surely dropping it, or `undefined` when it is not sure to. For spans
   * whose start attributes and links are known to be valid (the SDK warns
   * about invalid ones even for a dropped span): the caller can skip
   * building them.
   */
  dropped(ctx: Context): Span | undefined;
}

class StacklightLightTracer implements LightTracer {
  private readonly shared: LightSpanShared;

  constructor(
    private readonly sampler: Sampler,
    private readonly idGenerator: IdGenerator,
    shared: LightSpanShared,
    private readonly mayKeepAttributes: boolean,
    private readonly drops: DropsFn | undefined,
  ) {
    this.shared = shared;
  }

  dropped(ctx: Context): Span | undefined {
    const drops = this.drops;
    if (drops === undefined) return undefined;
    const sc = trace.getSpanContext(ctx);
    const parent = sc !== undefined && trace.isSpanContextValid(sc) ? sc : undefined;
    if (!drops(parent) || isTracingSuppressed(ctx)) return undefined;
    // The SDK's order: span id, then (for a root) trace id.
    const spanId = this.idGenerator.generateSpanId();
    const traceId = parent?.traceId ?? this.idGenerator.generateTraceId();
    diag.debug('Recording is off, propagating context in a non-recording span');
    return trace.wrapSpanContext({
      traceId,
      spanId,
      traceFlags: TraceFlags.NONE,
      traceState: parent?.traceState,
    });
  }

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span {
    if (options.root) ctx = trace.deleteSpan(ctx);
    const parentSpan = trace.getSpan(ctx);
    if (isTracingSuppressed(ctx)) {
      diag.debug('Instrumentation suppressed, returning Noop Span');
      return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    }
    const parentContext = parentSpan?.spanContext();
    // The SDK draws the span id first, then (for a root) the trace id.
    const spanId = this.idGenerator.generateSpanId();
    let parent: SpanContext | undefined;
    let traceId: string;
    let traceState: TraceState | undefined;
    if (parentContext === undefined || !trace.isSpanContextValid(parentContext)) {
      traceId = this.idGenerator.generateTraceId();
    } else {
      traceId = parentContext.traceId;
      traceState = parentContext.traceState;
      parent = parentContext;
    }
    const kind = options.kind ?? SpanKind.INTERNAL;
    if (this.drops !== undefined && this.drops(parent)) {
      // What the SDK does here, minus the sampler's call: its warnings about
      // the links' and the span's attributes, then the non-recording span.
      if (options.links != null) for (const link of options.links) warnInvalid(link.attributes);
      warnInvalid(options.attributes);
      diag.debug('Recording is off, propagating context in a non-recording span');
      return trace.wrapSpanContext({ traceId, spanId, traceFlags: TraceFlags.NONE, traceState });
    }
    // Fresh copies, as the SDK hands them to the sampler (which may change them).
    const links: Link[] = [];
    if (options.links != null) {
      for (const link of options.links) {
        links.push({ context: link.context, attributes: sanitizeAttributes(link.attributes) });
      }
    }
    const attributes =
      this.mayKeepAttributes &&
      (options as OwnedSpanOptions)[OWNED_ATTRIBUTES] === true &&
      options.attributes !== undefined
        ? options.attributes
        : sanitizeAttributes(options.attributes);
    const result = this.sampler.shouldSample(ctx, traceId, name, kind, attributes, links);
    traceState = result.traceState ?? traceState;
    const spanContext: SpanContext = {
      traceId,
      spanId,
      traceFlags:
        result.decision === SamplingDecision.RECORD_AND_SAMPLED
          ? TraceFlags.SAMPLED
          : TraceFlags.NONE,
      traceState,
    };
    if (result.decision === SamplingDecision.NOT_RECORD) {
      diag.debug('Recording is off, propagating context in a non-recording span');
      return trace.wrapSpanContext(spanContext);
    }
    // The sampler may have added attributes (or changed the ones it got): the
    // SDK sanitizes the merge again before the span exists, then sets it.
    const returned = result.attributes;
    const merged = returned == null ? attributes : Object.assign(attributes, returned);
    const shared = this.shared;
    const check = checkStartAttributes(merged, shared.attributeCountLimit, shared.valueLengthLimit);
    // The span keeps `merged` when that changes nothing: an object of the
    // tracer's own, no longer seen by the sampler, holding exactly what the
    // span would copy (one object fewer per span).
    const keep =
      check < 0 && this.mayKeepAttributes && Object.getPrototypeOf(merged) === Object.prototype;
    const span = new LightSpan(
      shared,
      spanContext,
      parent,
      name,
      kind,
      options.startTime,
      keep ? merged : undefined,
      keep ? -1 - check : 0,
    );
    for (const link of links) span.addLink(link);
    if (!keep) span.initAttributes(merged, check);
    return span;
  }
}

/** A tracer of light spans for one use (the HTTP server span); see light-span.ts. */
export function createLightTracer(options: LightTracerOptions): LightTracer {
  return new StacklightLightTracer(
    options.sampler,
    options.idGenerator ?? ids,
    new LightSpanShared(
      options.spanLimits,
      options.resource,
      options.instrumentationScope,
      options.onEnd,
    ),
    options.samplerKeepsNoAttributes === true,
    options.drops,
  );
}
