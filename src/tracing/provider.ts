import {
  context,
  isSpanContextValid,
  propagation,
  trace,
  TraceFlags,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanLimits,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { ResolvedConfig } from '../config/resolve.js';
import { StacklightContextManager } from '../context.js';
import { INVALID, parseKeyValueList } from '../config/kinds.js';
import { SDK_VERSION } from '../version.js';
import {
  BoundedBatchSpanProcessor,
  fromSpanExporter,
  type BatchExporter,
} from './batch-processor.js';
import { createW3CPropagator } from './carriers.js';
import { ids } from './ids.js';
import { createLightTracer, type DropsFn, type LightTracer } from './light-tracer.js';
import { OtlpHttpExporter } from './otlp/http-exporter.js';
import { createSpanScrubber, ScrubbingSpanProcessor } from './span-scrub.js';
import { createRedactor } from '../logging/redact.js';

function noop(): void {}

/** What the tracing room gives `init()`. */
export interface TracingRoom {
  tracer: Tracer;
  provider: NodeTracerProvider | undefined;
  propagator: TextMapPropagator;
  /** Problems found while registering the OpenTelemetry globals, with their fix. */
  warnings: string[];
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Set on stacklight's tracer when every span processor is stacklight's own:
 * a {@link LightTracer} with the provider's sampler, span limits, resource
 * and scope, whose spans feed stacklight's batch processor. The HTTP
 * middleware makes its SERVER span with it (see light-span.ts for why).
 */
export const LIGHT_TRACER: unique symbol = Symbol('stacklight.tracing.light');

/** A tracer that may carry a {@link LIGHT_TRACER}. */
export type WithLightTracer = Tracer & { [LIGHT_TRACER]?: LightTracer };

/**
 * The span limits an SDK tracer applies, as the provider resolved them
 * (options, then `OTEL_*SPAN*_LIMIT` variables, then defaults).
 * sdk-trace-base 1.x had `Tracer.getSpanLimits()`; 2.x has no public getter
 * and keeps them in `_spanLimits` — read either. `undefined` when neither is
 * there (a future SDK): the caller then stays on the SDK path, whose limits
 * a light tracer could not be sure to match.
 */
export function sdkSpanLimits(tracer: Tracer): SpanLimits | undefined {
  const t = tracer as { getSpanLimits?: () => SpanLimits; _spanLimits?: unknown };
  if (typeof t.getSpanLimits === 'function') return t.getSpanLimits();
  const limits = t._spanLimits;
  return typeof limits === 'object' && limits !== null ? (limits as SpanLimits) : undefined;
}

/**
 * Whether the sampler `name`/`ratio` always drops a span with this parent
 * (a valid one, or none). The light tracer then skips the sampler, which
 * for these samplers only computes the decision.
 */
export function samplerDrops(name: ResolvedConfig['tracing']['sampler'], ratio: number): DropsFn {
  const never = (): boolean => false;
  const always = (): boolean => true;
  const byParent =
    (rootDrops: boolean): DropsFn =>
    (parent) =>
      parent === undefined || !isSpanContextValid(parent)
        ? rootDrops
        : (parent.traceFlags & TraceFlags.SAMPLED) === 0;
  switch (name) {
    case 'always_on':
      return never;
    case 'always_off':
      return always;
    case 'traceidratio':
      return ratio <= 0 ? always : never;
    case 'parentbased_always_on':
      return byParent(false);
    case 'parentbased_always_off':
      return byParent(true);
    case 'parentbased_traceidratio':
      return byParent(ratio <= 0);
  }
}

/** Sampler for the configured name and ratio. */
export function createSampler(name: ResolvedConfig['tracing']['sampler'], ratio: number): Sampler {
  // A ratio of exactly 1 or 0 needs no per-span trace-id arithmetic.
  const ratioSampler = (): Sampler =>
    ratio >= 1
      ? new AlwaysOnSampler()
      : ratio <= 0
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(ratio);
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratioSampler();
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratioSampler() });
  }
}

/**
 * The exporter for `tracing.exporter`. OTLP spans are encoded to protobuf
 * when they end (see otlp/encode.ts), so the export queue holds bytes, not
 * span objects.
 */
function createExporter(config: ResolvedConfig['tracing']): BatchExporter<unknown> | undefined {
  switch (config.exporter) {
    case 'otlp':
      return new OtlpHttpExporter({
        url: config.endpoint,
        headers: config.headers,
        timeoutMs: config.exportTimeoutMs,
      }) as BatchExporter<unknown>;
    case 'console':
      return fromSpanExporter(new ConsoleSpanExporter()) as BatchExporter<unknown>;
    case 'none':
      return undefined;
  }
}

/** Resource attributes from the config plus the other `OTEL_RESOURCE_ATTRIBUTES`. */
function resourceOf(config: ResolvedConfig, env: NodeJS.ProcessEnv) {
  const extra = env.OTEL_RESOURCE_ATTRIBUTES ? parseKeyValueList(env.OTEL_RESOURCE_ATTRIBUTES) : {};
  return defaultResource().merge(
    resourceFromAttributes({
      ...(extra === INVALID ? {} : extra),
      'service.name': config.service,
      'service.version': config.version,
      'deployment.environment.name': config.env,
      'cloud.region': config.region,
      'telemetry.distro.name': 'stacklight',
      'telemetry.distro.version': SDK_VERSION,
    }),
  );
}

function delegateName(): string | undefined {
  const global = trace.getTracerProvider() as { getDelegate?: () => object };
  const delegate = global.getDelegate ? global.getDelegate() : global;
  const name = delegate.constructor.name;
  return name === 'NoopTracerProvider' ? undefined : name;
}

/**
 * Builds the tracer provider (parent-based ratio sampler by default, bounded
 * batch processor, exporter chosen by config) and registers it, the
 * AsyncLocalStorage context manager and the propagator as OpenTelemetry
 * globals. When another SDK already holds a global, stacklight keeps its own
 * provider for its spans and reports the conflict instead of fighting over it.
 */
export function createTracing(
  config: ResolvedConfig,
  onDrop: (reason: string, count: number) => void,
  env: NodeJS.ProcessEnv = process.env,
): TracingRoom {
  // Strict W3C trace context plus baggage.
  const propagator = createW3CPropagator();
  const warnings: string[] = [];
  if (!config.tracing.enabled) {
    return {
      tracer: trace.getTracer('stacklight', SDK_VERSION),
      provider: undefined,
      propagator,
      warnings,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  }
  const t = config.tracing;
  // One scrubbing pass per finished span, before any processor reads it
  // (span-scrub.ts): the log line's rules and secret keys.
  const scrubSpan = createSpanScrubber({
    redactor: createRedactor({
      keys: config.logging.redactKeys,
      maxStringLength: config.logging.maxStringLength,
    }),
    stackTraces: t.stackTraces,
  });
  const processors: SpanProcessor[] = [...t.spanProcessors];
  const resource = resourceOf(config, env);
  const exporter = createExporter(t);
  const batch =
    exporter === undefined
      ? undefined
      : new BoundedBatchSpanProcessor(exporter, {
          maxQueueSize: t.maxQueueSize,
          maxExportBatchSize: Math.min(t.maxExportBatchSize, t.maxQueueSize),
          scheduledDelayMs: t.scheduledDelayMs,
          exportTimeoutMs: t.exportTimeoutMs,
          onDrop,
        });
  if (batch !== undefined) processors.unshift(batch);
  processors.unshift(new ScrubbingSpanProcessor(scrubSpan));
  const sampler = createSampler(t.sampler, t.sampleRatio);
  const provider = new NodeTracerProvider({
    resource,
    sampler,
    idGenerator: ids,
    spanProcessors: processors,
  });

  const other = delegateName();
  if (other !== undefined) {
    warnings.push(
      `another global TracerProvider (${other}) is already registered: stacklight's spans go to its own provider, ` +
        `but spans of other instrumentations go to ${other}. Fix: set up tracing only through stacklight ` +
        `(pass extra processors as tracing.spanProcessors), or call init() before the other SDK starts.`,
    );
  } else {
    trace.setGlobalTracerProvider(provider);
  }
  // One AsyncLocalStorage for the trace and the request context (see context.ts).
  const contextManager = new StacklightContextManager().enable();
  const ownsContext = context.setGlobalContextManager(contextManager);
  if (!ownsContext) {
    contextManager.disable();
    warnings.push(
      'another global OpenTelemetry context manager is already registered; stacklight uses it. ' +
        'Fix: make sure it is an AsyncLocalStorage context manager, or let stacklight register its own.',
    );
  }
  const ownsPropagator = propagation.setGlobalPropagator(propagator);
  if (!ownsPropagator) {
    warnings.push(
      'another global OpenTelemetry propagator is already registered: incoming traceparent headers may be ' +
        "parsed by it instead of stacklight's strict W3C propagator. Fix: remove the other propagation setup.",
    );
  }

  const tracer = provider.getTracer('stacklight', SDK_VERSION);
  // Only when every processor is one stacklight knows: user processors get
  // SDK spans (their onStart, onEnding and whatever they read of the span).
  const spanLimits = sdkSpanLimits(tracer);
  if (t.spanProcessors.length === 0 && spanLimits !== undefined) {
    (tracer as WithLightTracer)[LIGHT_TRACER] = createLightTracer({
      sampler,
      spanLimits,
      resource,
      // The SDK tracer's own scope object: the encoder groups spans by it.
      instrumentationScope: (tracer as Tracer & { instrumentationScope: InstrumentationScope })
        .instrumentationScope,
      // What the provider's processors are here: the batch processor, or none.
      // Unsampled light spans go nowhere: only sampled ones are scrubbed.
      onEnd:
        batch === undefined
          ? noop
          : (span) => {
              if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
              scrubSpan(span);
              batch.onEnd(span);
            },
      // createSampler's samplers are the SDK's: they keep nothing they are
      // given, and where they surely drop, calling them changes nothing.
      samplerKeepsNoAttributes: true,
      drops: samplerDrops(t.sampler, t.sampleRatio),
    });
  }
  return {
    tracer,
    provider,
    propagator,
    warnings,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      // Give back only the globals stacklight registered, so that a later
      // init() (tests, hot reload) can register again — first, so that a
      // flush stuck on a dead collector cannot keep them held.
      if (other === undefined) trace.disable();
      if (ownsContext) context.disable();
      if (ownsPropagator) propagation.disable();
      await provider.shutdown();
    },
  };
}
