/**
 * Public API of `stacklight`. Everything exported is listed here by name;
 * anything else is internal and may change without notice.
 */

// init and the handle
export { init } from './init.js';
export type { ShutdownHook, ShutdownPhase } from './shutdown.js';
export type { CaptureContext } from './logging/sentry.js';
export { SDK_VERSION } from './version.js';

// options
export type {
  LoggingOptions,
  LogLevel,
  MetricsOptions,
  SamplerName,
  SentryOptions,
  ShutdownOptions,
  StacklightOptions,
  Telemetry,
  TracesExporterName,
  TracingIncoming,
  TracingOptions,
} from './types.js';
export type {
  DiagnosticsLevel,
  InstrumentationLike,
  OtlpProtocol,
  TracingProviderMode,
} from './types.js';
export type { LogMethod, StacklightLogger } from './types.js';
export type {
  DeclaredFieldType,
  LogFieldDeclarations,
  LogFields,
  NoDeclaredFields,
} from './logging/schema.js';

// errors
export { ConfigError, isStacklightError, MetricError, StacklightError } from './errors.js';
export type { StacklightErrorCode } from './errors.js';

// metrics
export {
  allMetricDefinitions,
  METRIC_CATALOG,
  METRIC_FAMILIES,
  OVERFLOW_LABEL_VALUE,
  SELF_METRIC_CATALOG,
} from './metrics/catalog.js';
export type { MetricDefinition, MetricFamily, MetricType } from './metrics/catalog.js';
export type {
  BoundCounter,
  BoundHistogram,
  GuardedCounter,
  GuardedGauge,
  GuardedHistogram,
  LabelValues,
} from './metrics/instruments.js';
export type { CatalogMetrics, InstrumentOf, SelfMetrics } from './metrics/registry.js';
export type { ExpositionFormat } from './metrics/exposition.js';

// logging: the line schema as data
export { LOG_FIELDS } from './logging/schema.js';
export type { LogFieldName } from './logging/schema.js';

// request / job context
export { getContext, runWithContext } from './context.js';
export type { TelemetryContext } from './context.js';

// tracing
export {
  contextFromCarrier,
  createScrubbingSpanProcessor,
  enqueueSpanName,
  extractContext,
  formatTraceParent,
  httpServerSpanName,
  injectContext,
  parseTraceParent,
  SPAN_NAMES,
  TRACE_CARRIER_KEY,
  traceCarrier,
  withSpan,
} from './tracing/index.js';
export type {
  CarrierKind,
  HeadersLike,
  ScrubbingSpanProcessorOptions,
  SpanNameDefinition,
  SpanNameId,
  TraceCarrier,
  TraceCarrierHolder,
  TraceParent,
  WithSpanOptions,
} from './tracing/index.js';

// outbound HTTP clients (vendors, AI Coach, internal services)
export {
  AI_COACH_ENDPOINTS,
  AI_OTHER_ENDPOINT,
  createAiCoachClient,
  createServiceClient,
  createVendorClient,
} from './clients/index.js';
export type {
  AiCoachClient,
  AiCoachClientOptions,
  AiCoachEndpoint,
  AiErrorReason,
  AiRequestInit,
  BaseClientOptions,
  ClientRequestInit,
  FetchLike,
  InstrumentedFetch,
  ServiceClient,
  ServiceClientOptions,
  VendorClient,
  VendorClientOptions,
} from './clients/index.js';

// events: outbox, WebSocket/SSE delivery, connection tracking, SSE subscriber
export {
  createEventDelivery,
  createOutbox,
  instrumentWebSocketServer,
  OTHER_EVENT_TYPE,
  SSE_SUBSCRIBER_DEFAULTS,
  subscribeToEvents,
  trackWebSocket,
  wsDropReason,
} from './events/index.js';
export type {
  DeliverOptions,
  DeliveryChannel,
  EventDelivery,
  EventDeliveryOptions,
  EventEnvelope,
  Outbox,
  OutboxEvent,
  OutboxOptions,
  SseDropReason,
  SseEventMeta,
  SseLostReason,
  SseSubscriberOptions,
  SseSubscription,
  TrackedWebSocket,
  WebSocketLike,
  WebSocketServerLike,
  WsDropReason,
  WsTrackingOptions,
} from './events/index.js';

// SLOs: definitions, rule generation, SLI recorders
export {
  createDigestRecorder,
  createProbeRunner,
  defineSlo,
  generateDashboards,
  generateRules,
  scrapeConfig,
  specSlos,
} from './slo/index.js';
export type {
  DigestOutcome,
  DigestRecorder,
  DigestRecorderOptions,
  GeneratedFile,
  GenerateOptions,
  LatencySli,
  Matchers,
  ProbeContext,
  ProbeDefinition,
  ProbeResult,
  ProbeRunner,
  ProbeRunnerOptions,
  RatioSli,
  ScrapeConfigOptions,
  Sli,
  SloDefinition,
  SloObjective,
  SpecNames,
} from './slo/index.js';
