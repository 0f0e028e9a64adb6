import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  isSpanContextValid,
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
import { readFileSync } from 'node:fs';
import type {
  InstrumentationLike,
  SamplerName,
  TracesExporterName,
  TracingProviderMode,
} from '../types.js';
import { StacklightContextManager } from '../context.js';
import { SDK_VERSION } from '../version.js';
import type { Guard } from '../internals/guard.js';
import { otelSdkGuard } from '../internals/otel-sdk.js';
import {
  BoundedBatchSpanProcessor,
  fromSpanExporter,
  type BatchExporter,
} from './batch-processor.js';
import { createW3CPropagator } from './carriers.js';
import { ids } from './ids.js';
import { createLightTracer, type DropsFn, type LightTracer } from './light-tracer.js';
import { OtlpHttpExporter, type OtlpTls } from './otlp/http-exporter.js';
import { apiCopies, apiForGlobals, describeCopy, serviceApis } from './otel-api.js';
import { createSpanScrubber, ScrubbingSpanProcessor } from './span-scrub.js';
import type { Redactor } from '../logging/redact.js';
import { messageOf } from '../util/errors.js';

function noop(): void {}

/**
 * Configuration of `createTracing`, resolved by `init()` (as `LoggerSetup` is
 * for the logger): tracing reads no options, environment variables or
 * `config/` of its own.
 */
export interface TracingSetup {
  /** `false`: a tracer that records nothing, no globals registered. */
  enabled: boolean;
  /** `auto` joins a tracer provider another SDK registered before `init()`. */
  provider: TracingProviderMode;
  /** One batch processor per exporter; `none` exports nothing. */
  exporter: readonly TracesExporterName[];
  /** OTLP/HTTP traces URL. */
  endpoint: string;
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  /** PEM file paths (checked readable by `config/`). */
  certificate: string | undefined;
  clientCertificate: string | undefined;
  clientKey: string | undefined;
  sampler: SamplerName;
  sampleRatio: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  exportTimeoutMs: number;
  /** Keep `exception.stacktrace` on span exception events. */
  stackTraces: boolean;
  /** The service's own processors, after stacklight's. */
  spanProcessors: readonly SpanProcessor[];
  instrumentations: readonly InstrumentationLike[];
  /**
   * Resource attributes, resolved once by `config/` with its precedence
   * rules: `OTEL_RESOURCE_ATTRIBUTES`, with the service's name, version,
   * environment and region over it. The per-process ones are added here.
   */
  resource: Readonly<Record<string, string>>;
  /** The redactor of every exit (`init()` builds one): spans are scrubbed with it. */
  redactor: Redactor;
}

/** What the tracing room gives `init()`. */
export interface TracingRoom {
  /** Who owns the provider: stacklight, or the service's own SDK. */
  mode: 'stacklight' | 'external';
  tracer: Tracer;
  provider: NodeTracerProvider | undefined;
  propagator: TextMapPropagator;
  /** Problems found while registering the OpenTelemetry globals, with their fix. */
  warnings: string[];
  /** The version guard consulted for the light span (internals/otel-sdk.ts), if any. */
  guards?: readonly Guard[];
  forceFlush(): Promise<void>;
  /**
   * Flushes and stops. When `signal` aborts (the shutdown budget of the
   * flush ended), the export in flight is aborted and its sockets destroyed.
   */
  shutdown(signal?: AbortSignal): Promise<void>;
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
 * a light tracer could not be sure to match. A private read: called only
 * when the SDK's version passed its guard (internals/otel-sdk.ts).
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
export function samplerDrops(name: SamplerName, ratio: number): DropsFn {
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
export function createSampler(name: SamplerName, ratio: number): Sampler {
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
function createExporter(
  setup: TracingSetup,
  name: TracesExporterName,
  onExportFailure: (reason: string) => void,
): BatchExporter<unknown> | undefined {
  switch (name) {
    case 'otlp':
      return new OtlpHttpExporter({
        url: setup.endpoint,
        headers: setup.headers,
        timeoutMs: setup.exportTimeoutMs,
        compression: setup.compression,
        tls: readTls(setup),
        onFailure: onExportFailure,
      }) as BatchExporter<unknown>;
    case 'console':
      return fromSpanExporter(new ConsoleSpanExporter()) as BatchExporter<unknown>;
    case 'none':
      return undefined;
  }
}

/** The PEM files named by the TLS settings (checked readable at init()). */
function readTls(setup: TracingSetup): OtlpTls | undefined {
  const tls: OtlpTls = {};
  if (setup.certificate !== undefined) tls.ca = readFileSync(setup.certificate);
  if (setup.clientCertificate !== undefined) tls.cert = readFileSync(setup.clientCertificate);
  if (setup.clientKey !== undefined) tls.key = readFileSync(setup.clientKey);
  return Object.keys(tls).length > 0 ? tls : undefined;
}

/** `service.instance.id`: random, one per process. */
const INSTANCE_ID = randomUUID();

/**
 * Resource attributes: the instance (`service.instance.id`, `host.name`,
 * `process.pid`, `process.runtime.*`; no command line, which can hold
 * secrets), then the configured ones (`setup.resource`: the service's name,
 * version, environment and region over the other `OTEL_RESOURCE_ATTRIBUTES`),
 * then the distribution's.
 */
function resourceOf(setup: TracingSetup) {
  return defaultResource().merge(
    resourceFromAttributes({
      // Per process; OTEL_RESOURCE_ATTRIBUTES may set its own.
      'service.instance.id': INSTANCE_ID,
      'host.name': hostname(),
      'process.pid': process.pid,
      'process.runtime.name': 'nodejs',
      'process.runtime.version': process.versions.node,
      ...setup.resource,
      'telemetry.distro.name': 'stacklight',
      'telemetry.distro.version': SDK_VERSION,
    }),
  );
}

function delegateOf(provider: object): object {
  const p = provider as { getDelegate?: () => object };
  return typeof p.getDelegate === 'function' ? p.getDelegate() : provider;
}

/**
 * After registering: more than one copy of the OpenTelemetry API, or an API
 * copy of the service's that does not see stacklight's provider (its
 * `trace.getActiveSpan()` would be undefined and its `propagation.inject`
 * would write nothing).
 */
function checkApiCopies(provider: object): string[] {
  const out: string[] = [];
  try {
    const copies = apiCopies();
    const blind = serviceApis().filter(
      ({ api }) => delegateOf(api.trace.getTracerProvider()) !== provider,
    );
    if (delegateOf(trace.getTracerProvider()) !== provider) {
      blind.unshift({ copy: "stacklight's own", api: undefined as never });
    }
    if (blind.length > 0) {
      out.push(
        `the OpenTelemetry API copy ${blind.map((b) => b.copy).join(' and ')} does not see stacklight's ` +
          `TracerProvider (installed copies: ${copies.map(describeCopy).join('; ')}): spans and trace ` +
          `propagation through it are no-ops. Fix: run "npm dedupe" and use one @opentelemetry/api version.`,
      );
    } else if (copies.length > 1) {
      out.push(
        `${copies.length} copies of @opentelemetry/api are installed (${copies.map(describeCopy).join('; ')}). ` +
          `They share stacklight's globals today, but instrumentations built against another copy may not. ` +
          `Fix: run "npm dedupe" so that one @opentelemetry/api is installed.`,
      );
    }
  } catch {
    // A check must never break init().
  }
  return out;
}

/**
 * Enables OpenTelemetry instrumentations under `provider` (or the global
 * one), the way `registerInstrumentations` of `@opentelemetry/instrumentation`
 * does. A failing instrumentation is reported, not thrown.
 */
function enableInstrumentations(
  list: readonly InstrumentationLike[],
  provider: object | undefined,
  warnings: string[],
): { disable(): void } {
  const enabled: InstrumentationLike[] = [];
  for (const inst of list) {
    try {
      if (provider !== undefined) inst.setTracerProvider(provider);
      inst.enable();
      enabled.push(inst);
    } catch (err) {
      warnings.push(
        `enabling the instrumentation ${String(inst.instrumentationName)} failed: ${messageOf(err)}`,
      );
    }
  }
  return {
    disable: () => {
      for (const inst of enabled) {
        try {
          inst.disable();
        } catch {
          // Shutdown goes on.
        }
      }
    },
  };
}

/**
 * The service runs its own OpenTelemetry SDK (or said so with
 * `tracing.provider: 'external'`): stacklight registers no provider, context
 * manager or propagator, and makes its spans through the global provider, so
 * that there is one `service.name` and one span tree. The global tracer is a
 * proxy: an SDK started after `init()` is picked up as well.
 */
function externalTracing(
  t: TracingSetup,
  propagator: TextMapPropagator,
  warnings: string[],
): TracingRoom {
  if (t.spanProcessors.length > 0) {
    warnings.push(
      'tracing.spanProcessors are not used when the tracer provider is external: add them to your ' +
        'OpenTelemetry SDK setup instead.',
    );
  }
  const instrumentations = enableInstrumentations(t.instrumentations, undefined, warnings);
  return {
    mode: 'external',
    tracer: trace.getTracer('stacklight', SDK_VERSION),
    provider: undefined,
    propagator,
    warnings,
    forceFlush: async () => {
      const p = delegateOf(trace.getTracerProvider()) as { forceFlush?: () => Promise<void> };
      if (typeof p.forceFlush === 'function') await p.forceFlush();
    },
    shutdown: () => {
      // The provider is the service's to shut down.
      instrumentations.disable();
      return Promise.resolve();
    },
  };
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
  setup: TracingSetup,
  onDrop: (reason: string, count: number) => void,
  onExportFailure: (reason: string) => void = noop,
  sdkGuard: Guard = otelSdkGuard(),
): TracingRoom {
  // Strict W3C trace context plus baggage.
  const propagator = createW3CPropagator();
  const warnings: string[] = [];
  if (!setup.enabled) {
    return {
      mode: 'stacklight',
      tracer: trace.getTracer('stacklight', SDK_VERSION),
      provider: undefined,
      propagator,
      warnings,
      forceFlush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
  }
  const t = setup;
  if (t.provider === 'external' || (t.provider === 'auto' && delegateName() !== undefined)) {
    return externalTracing(t, propagator, warnings);
  }
  // One scrubbing pass per finished span, before any processor reads it
  // (span-scrub.ts): the log line's rules and secret keys.
  const scrubSpan = createSpanScrubber({ redactor: t.redactor, stackTraces: t.stackTraces });
  const processors: SpanProcessor[] = [...t.spanProcessors];
  const resource = resourceOf(t);
  // One bounded batch processor per exporter (`OTEL_TRACES_EXPORTER=otlp,console`).
  const batches: BoundedBatchSpanProcessor<unknown>[] = [];
  for (const name of new Set(t.exporter)) {
    const exporter = createExporter(t, name, onExportFailure);
    if (exporter === undefined) continue;
    batches.push(
      new BoundedBatchSpanProcessor(exporter, {
        maxQueueSize: t.maxQueueSize,
        maxExportBatchSize: Math.min(t.maxExportBatchSize, t.maxQueueSize),
        scheduledDelayMs: t.scheduledDelayMs,
        exportTimeoutMs: t.exportTimeoutMs,
        onDrop,
      }),
    );
  }
  processors.unshift(...batches);
  processors.unshift(new ScrubbingSpanProcessor(scrubSpan));
  const sampler = createSampler(t.sampler, t.sampleRatio);
  const provider = new NodeTracerProvider({
    resource,
    sampler,
    idGenerator: ids,
    spanProcessors: processors,
  });

  // Registered through the newest API copy the service resolves, so that an
  // app on a newer @opentelemetry/api than stacklight's sees the provider too.
  const api = apiForGlobals();
  const other = delegateName();
  if (other !== undefined) {
    warnings.push(
      `another global TracerProvider (${other}) is already registered: stacklight's spans go to its own provider, ` +
        `but spans of other instrumentations go to ${other}. Fix: set up tracing only through stacklight ` +
        `(pass extra processors as tracing.spanProcessors), or call init() before the other SDK starts.`,
    );
  } else {
    api.trace.setGlobalTracerProvider(provider);
  }
  // One AsyncLocalStorage for the trace and the request context (see context.ts).
  const contextManager = new StacklightContextManager().enable();
  const ownsContext = api.context.setGlobalContextManager(contextManager);
  if (!ownsContext) {
    contextManager.disable();
    warnings.push(
      'another global OpenTelemetry context manager is already registered; stacklight uses it. ' +
        'Fix: make sure it is an AsyncLocalStorage context manager, or let stacklight register its own.',
    );
  }
  const ownsPropagator = api.propagation.setGlobalPropagator(propagator);
  if (!ownsPropagator) {
    warnings.push(
      'another global OpenTelemetry propagator is already registered: incoming traceparent headers may be ' +
        "parsed by it instead of stacklight's strict W3C propagator. Fix: remove the other propagation setup.",
    );
  }
  if (other === undefined) warnings.push(...checkApiCopies(provider));

  const tracer = provider.getTracer('stacklight', SDK_VERSION);
  // Only when every processor is one stacklight knows: user processors get
  // SDK spans (their onStart, onEnding and whatever they read of the span).
  // The light span borrows the SDK's internals: only on a tested SDK.
  const light = t.spanProcessors.length === 0;
  const spanLimits = light && sdkGuard.fast ? sdkSpanLimits(tracer) : undefined;
  if (spanLimits !== undefined) {
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
        batches.length === 0
          ? noop
          : (span) => {
              if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
              scrubSpan(span);
              for (const b of batches) b.onEnd(span);
            },
      // createSampler's samplers are the SDK's: they keep nothing they are
      // given, and where they surely drop, calling them changes nothing.
      samplerKeepsNoAttributes: true,
      drops: samplerDrops(t.sampler, t.sampleRatio),
    });
  }
  const instrumentations = enableInstrumentations(t.instrumentations, provider, warnings);
  return {
    mode: 'stacklight',
    tracer,
    provider,
    propagator,
    warnings,
    guards: light ? [sdkGuard] : [],
    forceFlush: () => provider.forceFlush(),
    shutdown: async (signal) => {
      instrumentations.disable();
      // Give back only the globals stacklight registered, so that a later
      // init() (tests, hot reload) can register again — first, so that a
      // flush stuck on a dead collector cannot keep them held.
      if (other === undefined) api.trace.disable();
      if (ownsContext) api.context.disable();
      if (ownsPropagator) api.propagation.disable();
      const abort = (): void => {
        for (const b of batches) b.abort();
      };
      if (signal?.aborted === true) abort();
      signal?.addEventListener('abort', abort, { once: true });
      try {
        await provider.shutdown();
      } finally {
        signal?.removeEventListener('abort', abort);
      }
    },
  };
}
