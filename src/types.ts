/**
 * Public types: the options of `init()` and the `Telemetry` handle it
 * returns. Everything here is semver surface. Adapters take the handle's type
 * from here, never from the composition root (`init.ts`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Registry } from 'prom-client';
import type { ResolvedConfig } from './config/resolve.js';
import type { CaptureContext } from './logging/sentry.js';
import type { MetricDefinition, MetricFamily } from './metrics/catalog.js';
import type { ExpositionFormat } from './metrics/exposition.js';
import type { CatalogMetrics, InstrumentOf, SelfMetrics } from './metrics/registry.js';
import type { ShutdownHook, ShutdownPhase } from './shutdown.js';
import type {
  Bindings,
  ChildLoggerOptions,
  DestinationStream,
  Logger,
  TransportMultiOptions,
  TransportPipelineOptions,
  TransportSingleOptions,
} from 'pino';
import type { LogFieldDeclarations, LogFields, NoDeclaredFields } from './logging/schema.js';

/** Log levels, lowest first. `silent` turns logging off. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** Exporters for finished spans (`OTEL_TRACES_EXPORTER`). */
export type TracesExporterName = 'otlp' | 'console' | 'none';

/**
 * Levels of stacklight's own diagnostics (`OTEL_LOG_LEVEL`): its warnings
 * about configuration, export failures and shutdown, and OpenTelemetry's
 * `diag` messages (forwarded when the level is set explicitly).
 */
export type DiagnosticsLevel = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';

/** OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`); only `http/protobuf` is implemented. */
export type OtlpProtocol = 'http/protobuf';
/** Values of `tracing.incoming`. */
export type TracingIncoming = 'continue' | 'restart' | 'ignore';

/** Samplers (`OTEL_TRACES_SAMPLER`). */
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/**
 * One level method of {@link StacklightLogger}: a message, or an object of
 * the line schema's fields and the service's declared fields `F` (checked by
 * type; other keys compile and are moved under `extra` at run time), or an
 * `Error`.
 */
export interface LogMethod<F extends LogFieldDeclarations = NoDeclaredFields> {
  (msg: string, ...args: unknown[]): void;
  // An object is checked against the fields; a value of type `unknown` (a
  // caught error) is taken as pino takes it.
  <T>(obj: [T] extends [object] ? T & LogFields<F> : T, msg?: string, ...args: unknown[]): void;
}

/**
 * `telemetry.logger`: a pino logger whose object argument is checked against
 * the log schema and the service's declared fields (`logging.fields`), e.g.
 * `status: '200'` or, with `fields: { tenant: 'string' }`, `tenant: 1` does
 * not compile. Still a `pino.Logger` wherever one is expected.
 */
export interface StacklightLogger<
  F extends LogFieldDeclarations = NoDeclaredFields,
> extends Logger {
  fatal: LogMethod<F>;
  error: LogMethod<F>;
  warn: LogMethod<F>;
  info: LogMethod<F>;
  debug: LogMethod<F>;
  trace: LogMethod<F>;
  silent: LogMethod<F>;
  /** A child logger; its bindings are checked like a line's fields. */
  child(bindings: LogFields<F>, options?: ChildLoggerOptions<never>): StacklightLogger<F>;
  /** A child with custom levels: a plain pino logger. */
  child<C extends string>(bindings: Bindings, options: ChildLoggerOptions<C>): Logger<C>;
}

/** `logging` section of {@link StacklightOptions}. */
export interface LoggingOptions<F extends LogFieldDeclarations = LogFieldDeclarations> {
  /**
   * Lowest level written.
   * @default 'info'
   * Environment: `STACKLIGHT_LOG_LEVEL`.
   */
  level?: LogLevel;
  /**
   * Where lines go: any writable stream (tests pass a capture stream) or a
   * pino destination (`pino.destination('/var/log/app.log')`).
   * @default process stdout, written asynchronously in batches: when 64 KiB
   *   are pending, or 100 ms after the first line of a quiet period; at most
   *   8 MiB held, beyond it lines are dropped and counted (see
   *   docs/logging.md, "Destinations")
   */
  destination?: NodeJS.WritableStream | DestinationStream;
  /** A pino transport (e.g. a Loki transport) used instead of `destination`. */
  transport?: TransportSingleOptions | TransportMultiOptions | TransportPipelineOptions;
  /** Extra keys redacted at any depth, matched case-insensitively. */
  redactKeys?: string[];
  /** Extra fixed paths redacted by pino's path-based redaction (`req.headers.x`). */
  redactPaths?: string[];
  /**
   * Write `error.stack`.
   * @default true when `env` is `development` or `test`, false otherwise
   * Environment: `STACKLIGHT_LOG_STACKS`.
   */
  stackTraces?: boolean;
  /**
   * Longest string kept in a log line; longer strings are cut with a marker.
   * @default 8192
   */
  maxStringLength?: number;
  /**
   * Level of stacklight's own diagnostics (its warnings about configuration,
   * export failures and shutdown steps; `none` silences them, the counters
   * stay). When set, OpenTelemetry's `diag` messages at that level are
   * logged too, with `"stacklight":"otel-diag"`.
   * @default 'warn'
   * Environment: `OTEL_LOG_LEVEL`, `STACKLIGHT_DIAGNOSTICS_LEVEL`.
   */
  diagnosticsLevel?: DiagnosticsLevel;
  /**
   * The service's own log fields, name → JSON type (`'string'`, `'integer'`,
   * `'number'`, `'boolean'`, `'object'`, `'array'`). They are written at the
   * top level of the line (not under `extra`), checked by type (a wrong type
   * is moved under `extra` and counted as a schema violation), redacted like
   * every field, part of the JSON Schema (`stacklight log-schema`), and of
   * the type of `telemetry.logger`'s object argument. A name of the log
   * schema, a secret-like name (`sessionToken`) or an e-mail one (`email`)
   * is an error. No environment variable: the fields belong to the code.
   * @default {}
   * @example
   * ```ts
   * const t = init({ service: 'core', logging: { fields: { tenant: 'string', cached: 'boolean' } } });
   * t.logger.info({ tenant: 'acme', cached: true }, 'quote served');
   * ```
   */
  fields?: F;
}

/** `metrics` section of {@link StacklightOptions}. */
export interface MetricsOptions {
  /**
   * Collect Node.js process metrics (prom-client default metrics).
   * @default true
   * Environment: `STACKLIGHT_DEFAULT_METRICS`.
   */
  defaultMetrics?: boolean;
  /**
   * Series cap per metric; past it new label combinations go to one overflow series.
   * @default 2000
   * Environment: `STACKLIGHT_MAX_SERIES_PER_METRIC`.
   */
  maxSeriesPerMetric?: number;
  /**
   * Add `env` and `region` as labels on every series (besides `service`).
   * @default false
   * Environment: `STACKLIGHT_METRICS_ENV_LABELS`.
   */
  envLabels?: boolean;
  /**
   * Serve `/metrics` on its own port (services without HTTP, e.g. workers). 0 picks a free port.
   * Environment: `STACKLIGHT_METRICS_PORT`.
   */
  port?: number;
  /**
   * Interface of the metrics port.
   * @default '0.0.0.0'
   * Environment: `STACKLIGHT_METRICS_HOST`.
   */
  host?: string;
  /**
   * Path of the metrics endpoint.
   * @default '/metrics'
   */
  path?: string;
  /**
   * Bearer token required to read the metrics endpoint.
   * Environment: `STACKLIGHT_METRICS_TOKEN`.
   */
  token?: string;
  /**
   * Upper bound for each scrape-time collector (queue depth…), in ms.
   * @default 2000
   */
  collectTimeoutMs?: number;
  /**
   * Catalog families shown from the start. Without it, the job, event,
   * vendor, AI, WebSocket, SSE and digest metrics appear once their helper
   * is created or the metric is first recorded; list a family to have its
   * series (and the zeros of those without labels) there from `init()` on,
   * e.g. for SLO rules. HTTP, process and stacklight's own metrics are
   * always there.
   * @default []
   * @example
   * ```ts
   * init({ service: 'workers', metrics: { families: ['jobs'] } });
   * ```
   */
  families?: MetricFamily[];
}

/** `tracing` section of {@link StacklightOptions}. */
export interface TracingOptions {
  /**
   * Turn tracing on or off.
   * @default true
   * Environment: `OTEL_SDK_DISABLED=true` turns it off; `STACKLIGHT_TRACING_ENABLED`.
   */
  enabled?: boolean;
  /**
   * Span exporter, or several (`['otlp', 'console']`); `none` alone exports nothing.
   * @default 'otlp'
   * Environment: `OTEL_TRACES_EXPORTER`, `STACKLIGHT_TRACES_EXPORTER`.
   */
  exporter?: TracesExporterName | TracesExporterName[];
  /**
   * OTLP/HTTP traces URL.
   * @default 'http://localhost:4318/v1/traces'
   * Environment: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_ENDPOINT` (+ `/v1/traces`), `STACKLIGHT_TRACES_ENDPOINT`.
   */
  endpoint?: string;
  /**
   * Headers sent with each export (e.g. an API key).
   * Environment: `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, `OTEL_EXPORTER_OTLP_HEADERS`.
   */
  headers?: Record<string, string>;
  /**
   * Sampler.
   * @default 'parentbased_traceidratio'
   * Environment: `OTEL_TRACES_SAMPLER`, `STACKLIGHT_TRACES_SAMPLER`.
   */
  sampler?: SamplerName;
  /**
   * Ratio for the ratio-based samplers, in [0, 1].
   * @default 1
   * Environment: `OTEL_TRACES_SAMPLER_ARG`, `STACKLIGHT_TRACES_SAMPLE_RATIO`.
   */
  sampleRatio?: number;
  /**
   * Keep `exception.stacktrace` (scrubbed) on the exception events of spans.
   * Off, the attribute is removed, as the log line's `error.stack` is.
   * @default the value of `logging.stackTraces` (on when `env` is "development" or "test")
   * Environment: `STACKLIGHT_TRACE_STACKS`.
   */
  stackTraces?: boolean;
  /**
   * What the HTTP middleware does with a caller's `traceparent`/`tracestate`:
   * `'continue'` its trace (the server span is its child, the caller's sampling
   * decision is followed); `'restart'` a new trace whose root server span
   * links to the caller's span (for public edges: a client can neither force
   * sampling nor choose trace ids); `'ignore'` it (a new trace, no link).
   * Baggage is kept in `continue` mode only.
   * @default 'continue'
   * Environment: `STACKLIGHT_TRACING_INCOMING`.
   * @example
   * init({ service: 'edge', tracing: { incoming: 'restart' } });
   */
  incoming?: TracingIncoming;
  /**
   * Finished spans held for export; past it spans are dropped and counted.
   * @default 2048
   * Environment: `OTEL_BSP_MAX_QUEUE_SIZE`.
   */
  maxQueueSize?: number;
  /**
   * Spans per export request.
   * @default 512
   * Environment: `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
   */
  maxExportBatchSize?: number;
  /**
   * Delay between two exports, in ms.
   * @default 5000
   * Environment: `OTEL_BSP_SCHEDULE_DELAY`.
   */
  scheduledDelayMs?: number;
  /**
   * Timeout of one export (retries and the answer's body included), in ms.
   * Never more than `shutdown.timeoutMs`: a larger value is lowered to it.
   * @default 10000 (so 5000 with the default shutdown budget)
   * Environment: `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT`.
   */
  exportTimeoutMs?: number;
  /**
   * OTLP transport. Only `http/protobuf` is implemented; `grpc` and
   * `http/json` are refused at `init()` with an error saying so.
   * @default 'http/protobuf'
   * Environment: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`.
   */
  protocol?: OtlpProtocol;
  /**
   * Compression of export bodies.
   * @default 'none'
   * Environment: `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION`.
   */
  compression?: 'gzip' | 'none';
  /**
   * Path of a PEM file of the CA certificate(s) that signed the collector's
   * certificate (for an `https://` endpoint). Read at `init()`.
   * Environment: `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CERTIFICATE`.
   */
  certificate?: string;
  /**
   * Path of a PEM client certificate (mutual TLS).
   * Environment: `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`.
   */
  clientCertificate?: string;
  /**
   * Path of the PEM private key of `clientCertificate`.
   * Environment: `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY`, `OTEL_EXPORTER_OTLP_CLIENT_KEY`.
   */
  clientKey?: string;
  /**
   * Extra span processors (e.g. `stacklight/testing`'s in-memory exporter).
   * They are added beside the configured exporter. With any, the HTTP server
   * span is the SDK's span (so that they see it start) instead of
   * stacklight's lighter one.
   */
  spanProcessors?: SpanProcessor[];
  /**
   * Who owns the OpenTelemetry tracer provider.
   * - `'stacklight'`: stacklight creates and registers it (the default when
   *   no other provider is registered).
   * - `'external'`: the service already runs the OpenTelemetry Node SDK (or
   *   another provider); stacklight registers nothing, makes its spans with
   *   the global provider (one `service.name`), and enriches the SERVER
   *   span an HTTP instrumentation made instead of opening a second one.
   * - `'auto'`: `'external'` when a provider is already registered at
   *   `init()`, else `'stacklight'`.
   * @default 'auto'
   * Environment: `STACKLIGHT_TRACING_PROVIDER`.
   */
  provider?: TracingProviderMode;
  /**
   * OpenTelemetry instrumentations (e.g. `@opentelemetry/instrumentation-undici`,
   * `-pg`, `-ioredis`), registered under stacklight's provider so that
   * outgoing and database calls become children of its server span. They are
   * enabled at `init()` and disabled at `shutdown()`. Create them before the
   * modules they patch are first required.
   */
  instrumentations?: InstrumentationLike[];
}

/** Values of `tracing.provider`. */
export type TracingProviderMode = 'auto' | 'stacklight' | 'external';

/**
 * What stacklight needs of an OpenTelemetry instrumentation (the
 * `Instrumentation` interface of `@opentelemetry/instrumentation`).
 */
export interface InstrumentationLike {
  readonly instrumentationName: string;
  setTracerProvider(provider: unknown): void;
  enable(): void;
  disable(): void;
}

/** `sentry` section of {@link StacklightOptions}. */
export interface SentryOptions {
  /**
   * Sentry DSN; error tracking is off without one.
   * Environment: `SENTRY_DSN`, `STACKLIGHT_SENTRY_DSN`.
   */
  dsn?: string;
  /**
   * Share of error events sent, in [0, 1] (Sentry's `sampleRate`).
   * @default 1
   */
  sampleRate?: number;
  /**
   * Sentry's own `init()` options, passed through when stacklight creates
   * the client: `environment` (default: `env`), `release` (default:
   * `version`), `ignoreErrors`, `beforeSend` and `beforeBreadcrumb` (run
   * after stacklight's scrubbing), `integrations` (added to stacklight's),
   * `maxBreadcrumbs`, … stacklight keeps Sentry off the OpenTelemetry
   * globals and keeps its data collection off; `dsn` and `sampleRate` are
   * set through the options above. Unused when the service created its own
   * Sentry client (stacklight then joins that client).
   * @example
   * ```ts
   * init({ service: 'core', sentry: { options: { ignoreErrors: [/AbortError/] } } });
   * ```
   */
  options?: Readonly<Record<string, unknown>>;
}

/** `shutdown` section of {@link StacklightOptions}. */
export interface ShutdownOptions {
  /**
   * Upper bound of `shutdown()`, in ms: flushing spans and logs never takes longer.
   * @default 5000
   * Environment: `STACKLIGHT_SHUTDOWN_TIMEOUT_MS`.
   */
  timeoutMs?: number;
  /**
   * Run `shutdown()` on SIGTERM and SIGINT, then exit.
   * @default false
   * Environment: `STACKLIGHT_HANDLE_SIGNALS`.
   */
  handleSignals?: boolean;
  /**
   * On an uncaught exception or an unhandled rejection: write one scrubbed
   * `fatal` line, capture it to Sentry (when on) and flush, then end the
   * process the way Node would have (exit code 1). When the service has its
   * own `uncaughtException` / `unhandledRejection` listener, or runs with
   * `--unhandled-rejections=warn|none`, stacklight logs and captures but
   * leaves the process alone.
   * @default true
   * Environment: `STACKLIGHT_HANDLE_CRASHES`.
   */
  handleCrashes?: boolean;
}

/**
 * Options of `init()`. Precedence for every setting: explicit option >
 * standard `OTEL_*` variable > `STACKLIGHT_*` variable > default.
 *
 * @example
 * ```ts
 * const telemetry = init({ service: 'edge', env: 'prod', region: 'eu-west-1' });
 * ```
 */
export interface StacklightOptions<F extends LogFieldDeclarations = LogFieldDeclarations> {
  /**
   * Service name; labels every series, log line and span (`service.name`).
   * Required from one source.
   * Environment: `OTEL_SERVICE_NAME`, `service.name` in `OTEL_RESOURCE_ATTRIBUTES`, `STACKLIGHT_SERVICE`.
   */
  service?: string;
  /**
   * Deployment environment (`development`, `test`, `staging`, `production`…).
   * @default NODE_ENV, else 'production'
   * Environment: `deployment.environment.name` in `OTEL_RESOURCE_ATTRIBUTES`, `STACKLIGHT_ENV`.
   */
  env?: string;
  /**
   * Region (`cloud.region`).
   * @default 'unknown'
   * Environment: `cloud.region` in `OTEL_RESOURCE_ATTRIBUTES`, `STACKLIGHT_REGION`.
   */
  region?: string;
  /**
   * Service version (`service.version`, build-info label).
   * @default npm_package_version, else '0.0.0'
   * Environment: `service.version` in `OTEL_RESOURCE_ATTRIBUTES`, `STACKLIGHT_VERSION`.
   */
  version?: string;
  logging?: LoggingOptions<F>;
  metrics?: MetricsOptions;
  tracing?: TracingOptions;
  sentry?: SentryOptions;
  shutdown?: ShutdownOptions;
}

/**
 * The handle `init()` returns. `F`: the service's declared log fields
 * (`logging.fields`), which type the logger's object argument.
 */
export interface Telemetry<F extends LogFieldDeclarations = NoDeclaredFields> {
  readonly service: string;
  readonly env: string;
  readonly region: string;
  readonly version: string;
  /**
   * pino logger writing the spec's JSON schema; its object argument is typed
   * by the schema and the declared fields.
   */
  readonly logger: StacklightLogger<F>;
  /** prom-client registry of this instance (never the global one). */
  readonly registry: Registry;
  /** The catalog's instruments; label names are checked by the compiler. */
  readonly metrics: CatalogMetrics;
  /** stacklight's own health metrics. */
  readonly selfMetrics: SelfMetrics;
  /** OpenTelemetry tracer of this service. */
  readonly tracer: Tracer;
  /**
   * @internal The resolved configuration, read by stacklight's adapters. Not
   * part of the published types (`stripInternal`): its shape may change in any
   * release.
   */
  readonly config: Readonly<ResolvedConfig>;
  /**
   * Sends an error to Sentry (when `sentry.dsn` is set), redacted and tagged
   * with the request/job context and the trace id. Returns the event id, or
   * `undefined` without Sentry. Never throws.
   */
  captureException(err: unknown, ctx?: CaptureContext): string | undefined;
  /**
   * The redaction engine of logs, Sentry events and span attributes: a
   * scrubbed copy of `value` (secret keys, e-mail addresses, tokens).
   */
  redact<T>(value: T): T;
  /** Registers a metric of the service's own, guarded like the catalog's. */
  defineMetric<D extends MetricDefinition>(def: D): InstrumentOf<D>;
  /** The exposition, in Prometheus text (default) or OpenMetrics. */
  metricsText(format?: ExpositionFormat): Promise<string>;
  /** A Node `http` handler serving the exposition (honours `metrics.token`). */
  readonly metricsHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /**
   * Resolves once the metrics port (if configured) listens and Sentry (if
   * configured) is initialised; rejects if the port cannot be bound. Errors
   * captured before Sentry is ready are queued and sent once it is (there is
   * no need to await this before serving).
   */
  ready(): Promise<void>;
  /** Address of the metrics port, once listening. */
  metricsAddress(): AddressInfo | undefined;
  /** Adds a step to the shutdown sequence; returns a function that removes it. */
  onShutdown(phase: ShutdownPhase, name: string, hook: ShutdownHook): () => void;
  /**
   * Drains, flushes spans and logs, and closes what stacklight opened, within
   * `shutdown.timeoutMs`. Safe to call more than once; never rejects.
   */
  shutdown(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
