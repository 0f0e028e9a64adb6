import { LOG_LEVELS } from '../logging/schema.js';
import type { LogLevel, SamplerName, TracesExporterName, TracingIncoming } from '../types.js';
import {
  INVALID,
  bool,
  headers,
  int,
  oneOf,
  parseKeyValueList,
  ratio,
  stringList,
  text,
  url,
  type Kind,
} from './kinds.js';

/** Reads one environment source; `undefined` when it does not apply. */
export interface EnvSource {
  /** Variable name, as shown in docs and error messages. */
  readonly name: string;
  /** Derives the raw string from the environment (default: the variable itself). */
  read?(env: NodeJS.ProcessEnv): string | undefined;
  /** Turns the raw value into the setting's own form (e.g. OTEL_SDK_DISABLED → enabled). */
  map?(raw: string): string;
}

/** One configurable setting: where it comes from, what it may be, its default. */
export interface Setting<T> {
  /** Option path, e.g. `tracing.sampleRatio`. */
  readonly option: string;
  readonly kind: Kind<T>;
  /** Standard variables (OTEL_*, SENTRY_DSN), highest precedence first. */
  readonly standard?: readonly EnvSource[];
  /** stacklight's own variable. */
  readonly stacklight?: string;
  /** Default, possibly derived from settings resolved before it. */
  readonly default:
    | T
    | undefined
    | ((resolved: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv) => T | undefined);
  /** Docs text for the default when it is computed. */
  readonly defaultDoc?: string;
}

function resourceAttr(key: string, alt?: string): EnvSource {
  return {
    name: `OTEL_RESOURCE_ATTRIBUTES (${key})`,
    read: (env) => {
      const raw = env.OTEL_RESOURCE_ATTRIBUTES;
      if (raw === undefined || raw.trim() === '') return undefined;
      const attrs = parseKeyValueList(raw);
      if (attrs === INVALID) return undefined; // reported by validateResourceAttributes
      return attrs[key] ?? (alt !== undefined ? attrs[alt] : undefined);
    },
  };
}

const LEVELS = [...LOG_LEVELS, 'silent'] as const satisfies readonly LogLevel[];
const EXPORTERS = ['otlp', 'console', 'none'] as const satisfies readonly TracesExporterName[];
/** The sampler names of `tracing.sampler` (`OTEL_TRACES_SAMPLER`). */
export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const satisfies readonly SamplerName[];

/** What the HTTP middleware does with an incoming trace context (`tracing.incoming`). */
const INCOMING = ['continue', 'restart', 'ignore'] as const satisfies readonly TracingIncoming[];

const def = <T>(s: Setting<T>): Setting<T> => s;

/**
 * Every setting that can come from the environment, in resolution order.
 * docs/configuration.md is generated from this table.
 */
export const SETTINGS = [
  def({
    option: 'service',
    kind: text(128),
    standard: [{ name: 'OTEL_SERVICE_NAME' }, resourceAttr('service.name')],
    stacklight: 'STACKLIGHT_SERVICE',
    default: undefined,
    defaultDoc: '(required)',
  }),
  def({
    option: 'env',
    kind: text(64),
    standard: [resourceAttr('deployment.environment.name', 'deployment.environment')],
    stacklight: 'STACKLIGHT_ENV',
    default: (_r, env) =>
      env.NODE_ENV && env.NODE_ENV.trim() !== '' ? env.NODE_ENV.trim() : 'production',
    defaultDoc: 'NODE_ENV, else "production"',
  }),
  def({
    option: 'region',
    kind: text(64),
    standard: [resourceAttr('cloud.region')],
    stacklight: 'STACKLIGHT_REGION',
    default: 'unknown',
  }),
  def({
    option: 'version',
    kind: text(128),
    standard: [resourceAttr('service.version')],
    stacklight: 'STACKLIGHT_VERSION',
    default: (_r, env) => env.npm_package_version ?? '0.0.0',
    defaultDoc: 'npm_package_version, else "0.0.0"',
  }),
  def({
    option: 'logging.level',
    kind: oneOf(LEVELS),
    stacklight: 'STACKLIGHT_LOG_LEVEL',
    default: 'info',
  }),
  def({
    option: 'logging.stackTraces',
    kind: bool,
    stacklight: 'STACKLIGHT_LOG_STACKS',
    default: (r) => r.env === 'development' || r.env === 'test',
    defaultDoc: 'true when env is "development" or "test"',
  }),
  def({
    option: 'logging.redactKeys',
    kind: stringList,
    stacklight: 'STACKLIGHT_REDACT_KEYS',
    default: [],
  }),
  def({ option: 'logging.redactPaths', kind: stringList, default: [] }),
  def({ option: 'logging.maxStringLength', kind: int(64, 1_048_576), default: 8192 }),
  def({
    option: 'metrics.defaultMetrics',
    kind: bool,
    stacklight: 'STACKLIGHT_DEFAULT_METRICS',
    default: true,
  }),
  def({
    option: 'metrics.maxSeriesPerMetric',
    kind: int(1, 1_000_000),
    stacklight: 'STACKLIGHT_MAX_SERIES_PER_METRIC',
    default: 2000,
  }),
  def({
    option: 'metrics.envLabels',
    kind: bool,
    stacklight: 'STACKLIGHT_METRICS_ENV_LABELS',
    default: false,
  }),
  def({
    option: 'metrics.port',
    kind: int(0, 65535),
    stacklight: 'STACKLIGHT_METRICS_PORT',
    default: undefined,
  }),
  def({
    option: 'metrics.host',
    kind: text(255),
    stacklight: 'STACKLIGHT_METRICS_HOST',
    default: '0.0.0.0',
  }),
  def({ option: 'metrics.path', kind: text(255), default: '/metrics' }),
  def({
    option: 'metrics.token',
    kind: text(4096),
    stacklight: 'STACKLIGHT_METRICS_TOKEN',
    default: undefined,
  }),
  def({ option: 'metrics.collectTimeoutMs', kind: int(1, 60_000), default: 2000 }),
  def({
    option: 'tracing.enabled',
    kind: bool,
    standard: [{ name: 'OTEL_SDK_DISABLED', map: (raw) => flipBool(raw) }],
    stacklight: 'STACKLIGHT_TRACING_ENABLED',
    default: true,
  }),
  def({
    option: 'tracing.exporter',
    kind: oneOf(EXPORTERS),
    standard: [{ name: 'OTEL_TRACES_EXPORTER' }],
    stacklight: 'STACKLIGHT_TRACES_EXPORTER',
    default: 'otlp',
  }),
  def({
    option: 'tracing.endpoint',
    kind: url,
    standard: [
      { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' },
      {
        name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
        map: (raw) => `${raw.trim().replace(/\/+$/, '')}/v1/traces`,
      },
    ],
    stacklight: 'STACKLIGHT_TRACES_ENDPOINT',
    default: 'http://localhost:4318/v1/traces',
  }),
  def({
    option: 'tracing.headers',
    kind: headers,
    standard: [
      { name: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS' },
      { name: 'OTEL_EXPORTER_OTLP_HEADERS' },
    ],
    default: {},
  }),
  def({
    option: 'tracing.sampler',
    kind: oneOf(SAMPLERS),
    standard: [{ name: 'OTEL_TRACES_SAMPLER' }],
    stacklight: 'STACKLIGHT_TRACES_SAMPLER',
    default: 'parentbased_traceidratio',
  }),
  def({
    option: 'tracing.sampleRatio',
    kind: ratio(0, 1),
    standard: [{ name: 'OTEL_TRACES_SAMPLER_ARG' }],
    stacklight: 'STACKLIGHT_TRACES_SAMPLE_RATIO',
    default: 1,
  }),
  def({
    option: 'tracing.stackTraces',
    kind: bool,
    stacklight: 'STACKLIGHT_TRACE_STACKS',
    default: (r) => r['logging.stackTraces'] === true,
    defaultDoc: 'the value of logging.stackTraces',
  }),
  def({
    option: 'tracing.incoming',
    kind: oneOf(INCOMING),
    stacklight: 'STACKLIGHT_TRACING_INCOMING',
    default: 'continue',
  }),
  def({
    option: 'tracing.maxQueueSize',
    kind: int(1, 1_000_000),
    standard: [{ name: 'OTEL_BSP_MAX_QUEUE_SIZE' }],
    default: 2048,
  }),
  def({
    option: 'tracing.maxExportBatchSize',
    kind: int(1, 100_000),
    standard: [{ name: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' }],
    default: 512,
  }),
  def({
    option: 'tracing.scheduledDelayMs',
    kind: int(1, 600_000),
    standard: [{ name: 'OTEL_BSP_SCHEDULE_DELAY' }],
    default: 5000,
  }),
  def({
    option: 'tracing.exportTimeoutMs',
    kind: int(1, 600_000),
    standard: [
      { name: 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' },
      { name: 'OTEL_EXPORTER_OTLP_TIMEOUT' },
    ],
    default: 10_000,
  }),
  def({
    option: 'sentry.dsn',
    kind: url,
    standard: [{ name: 'SENTRY_DSN' }],
    stacklight: 'STACKLIGHT_SENTRY_DSN',
    default: undefined,
  }),
  def({ option: 'sentry.sampleRate', kind: ratio(0, 1), default: 1 }),
  def({
    option: 'shutdown.timeoutMs',
    kind: int(1, 600_000),
    stacklight: 'STACKLIGHT_SHUTDOWN_TIMEOUT_MS',
    default: 5000,
  }),
  def({
    option: 'shutdown.handleSignals',
    kind: bool,
    stacklight: 'STACKLIGHT_HANDLE_SIGNALS',
    default: false,
  }),
] as const;

function flipBool(raw: string): string {
  const v = raw.trim().toLowerCase();
  if (v === 'true') return 'false';
  if (v === 'false') return 'true';
  return raw; // left invalid on purpose: the error names OTEL_SDK_DISABLED and the value
}
