/**
 * OpenTelemetry SDK (`@opentelemetry/sdk-trace-base` 2.x) internals stacklight
 * relies on (not the SDK's public API), for the light SERVER span of the
 * HTTP middleware (tracing/light-tracer.ts, tracing/light-span.ts):
 *
 * - `Tracer._spanLimits` — the span limits the provider resolved (2.x has no
 *   public getter; 1.x had `getSpanLimits()`), read by `sdkSpanLimits` in
 *   tracing/provider.ts;
 * - `Tracer.instrumentationScope` — the tracer's scope object, shared by the
 *   light spans so that the encoder groups both kinds of span together;
 * - the behaviour of `SpanImpl` (attribute, event, link and status rules,
 *   limits and dropped counts, times, `diag` messages), copied by
 *   light-span.ts; test/tracing/light-span.test.ts runs the same operations
 *   on both spans and compares every field and the encoded bytes.
 *
 * Public path (an SDK outside the tested range, or its version unreadable):
 * no light tracer; the middleware's SERVER span is the SDK's own span, as
 * it already is when a service adds span processors. Spans are the same;
 * a traced request costs more CPU.
 */
import { installedVersion, lazyGuard, type GuardSpec } from './guard.js';

/** The sdk-trace-base versions CI runs the light span on. */
export const OTEL_SDK: GuardSpec = {
  name: '@opentelemetry/sdk-trace-base',
  tested: [{ from: '2.12.1', below: '3.0.0' }],
  fastPath: "stacklight's light server span",
  publicPath: "the SDK's own span",
  consequence: 'same spans, more CPU per traced request',
};

/** The decision for the sdk-trace-base stacklight loads (read once). */
export const otelSdkGuard = lazyGuard(OTEL_SDK, () =>
  installedVersion('@opentelemetry/sdk-trace-base', import.meta.url),
);
