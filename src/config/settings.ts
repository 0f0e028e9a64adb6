import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.js';
import { checkFieldDeclarations } from '../logging/declared-fields.js';
import { DECLARED_FIELD_TYPES, LOG_LEVELS, type LogFieldDeclarations } from '../logging/schema.js';
import { METRIC_FAMILY_NAMES, type MetricFamily } from '../metrics/catalog.js';
import type {
  DiagnosticsLevel,
  LogLevel,
  SamplerName,
  TracesExporterName,
  TracingIncoming,
} from '../types.js';
import {
  INVALID,
  bool,
  headers,
  int,
  listOf,
  oneOf,
  readableFile,
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

/** Levels of stacklight's own diagnostics (`OTEL_LOG_LEVEL`'s values). */
export const DIAGNOSTICS_LEVELS = [
  'none',
  'error',
  'warn',
  'info',
  'debug',
  'verbose',
  'all',
] as const satisfies readonly DiagnosticsLevel[];

/** `tracing.protocol`: only OTLP/HTTP with protobuf bodies is implemented. */
function protocolKind(): Kind<'http/protobuf'> {
  const base = oneOf(['http/protobuf'] as const);
  return {
    ...base,
    allowed:
      '"http/protobuf" (stacklight exports OTLP over HTTP with protobuf bodies; "grpc" and ' +
      '"http/json" are not supported: point the endpoint at the collector\'s OTLP/HTTP port, usually 4318)',
  };
}
/** What the HTTP middleware does with an incoming trace context (`tracing.incoming`). */
const INCOMING = ['continue', 'restart', 'ignore'] as const satisfies readonly TracingIncoming[];

const def = <T>(s: Setting<T>): Setting<T> => s;

/**
 * `logging.fields`: option only. The fields are the code's (its log calls
 * and its types use them), not the deployment's, so no variable sets them.
 * A bad name is an error naming it (see `checkFieldDeclarations`).
 */
const logFieldsKind: Kind<LogFieldDeclarations> = {
  allowed: `an object of field names to types (${DECLARED_FIELD_TYPES.map((t) => `"${t}"`).join(', ')})`,
  fromOption: (v) => checkFieldDeclarations(v),
  fromEnv: () => INVALID,
};

/** `metrics.families`: option only, like the helpers that would register them. */
const familiesKind: Kind<MetricFamily[]> = {
  allowed: `an array of ${METRIC_FAMILY_NAMES.map((f) => `"${f}"`).join(', ')}`,
  fromOption: (v) =>
    Array.isArray(v) && v.every((f) => (METRIC_FAMILY_NAMES as readonly unknown[]).includes(f))
      ? [...new Set(v as MetricFamily[])]
      : INVALID,
  fromEnv: () => INVALID,
};

/**
 * `LOG_LEVEL` when it names a level (lower-cased; `warning` is `warn`).
 * A value that names no level is an error naming the variable, like any
 * other invalid source.
 */
function logLevelFallback(env: NodeJS.ProcessEnv): LogLevel {
  const raw = env.LOG_LEVEL;
  if (raw === undefined || raw.trim() === '') return 'info';
  const v = raw.trim().toLowerCase();
  const level = v === 'warning' ? 'warn' : v;
  if ((LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ConfigError('LOG_LEVEL', raw, `one of ${LEVELS.map((l) => `"${l}"`).join(', ')}`);
}

/**
 * The `version` of the service's package.json: the one nearest to the
 * working directory (walking up), else the main module's. `undefined` when
 * none is found or it has no version.
 */
export function appPackageVersion(
  cwd: string = process.cwd(),
  main: string | undefined = process.argv[1],
): string | undefined {
  for (const start of [cwd, main === undefined ? undefined : dirname(main)]) {
    let dir = start;
    while (dir !== undefined) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        try {
          const v = (JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version;
          if (typeof v === 'string' && v.trim() !== '') return v.trim().slice(0, 128);
        } catch {
          // Unreadable: try the next start.
        }
        break;
      }
      const up = dirname(dir);
      dir = up === dir ? undefined : up;
    }
  }
  return undefined;
}

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
    default: (_r, env) => env.npm_package_version ?? appPackageVersion() ?? '0.0.0',
    defaultDoc:
      'npm_package_version, else "version" of the package.json nearest to the working directory, else "0.0.0"',
  }),
  def({
    option: 'logging.level',
    kind: oneOf(LEVELS),
    stacklight: 'STACKLIGHT_LOG_LEVEL',
    // LOG_LEVEL, the variable many tools share, as a fallback (any case).
    default: (_r, env) => logLevelFallback(env),
    defaultDoc: 'LOG_LEVEL (any case), else "info"',
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
  def({ option: 'logging.fields', kind: logFieldsKind, default: {}, defaultDoc: '{} (none)' }),
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
    option: 'metrics.families',
    kind: familiesKind,
    default: [],
    defaultDoc: '[] (each family appears once used)',
  }),
  def({
    option: 'tracing.enabled',
    kind: bool,
    standard: [{ name: 'OTEL_SDK_DISABLED', map: (raw) => flipBool(raw) }],
    defaultDoc: 'true (OTEL_SDK_DISABLED: only "true" disables)',
    stacklight: 'STACKLIGHT_TRACING_ENABLED',
    default: true,
  }),
  def({
    option: 'tracing.exporter',
    kind: listOf(EXPORTERS),
    standard: [{ name: 'OTEL_TRACES_EXPORTER' }],
    stacklight: 'STACKLIGHT_TRACES_EXPORTER',
    default: ['otlp'],
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
    option: 'tracing.protocol',
    kind: protocolKind(),
    standard: [
      { name: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL' },
    ],
    default: 'http/protobuf',
  }),
  def({
    option: 'tracing.compression',
    kind: oneOf(['gzip', 'none'] as const),
    standard: [
      { name: 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION' },
      { name: 'OTEL_EXPORTER_OTLP_COMPRESSION' },
    ],
    default: 'none',
  }),
  def({
    option: 'tracing.certificate',
    kind: readableFile,
    standard: [
      { name: 'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE' },
      { name: 'OTEL_EXPORTER_OTLP_CERTIFICATE' },
    ],
    default: undefined,
    defaultDoc: "(Node's trusted CAs)",
  }),
  def({
    option: 'tracing.clientCertificate',
    kind: readableFile,
    standard: [
      { name: 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE' },
      { name: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE' },
    ],
    default: undefined,
  }),
  def({
    option: 'tracing.clientKey',
    kind: readableFile,
    standard: [
      { name: 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY' },
      { name: 'OTEL_EXPORTER_OTLP_CLIENT_KEY' },
    ],
    default: undefined,
  }),
  def({
    option: 'logging.diagnosticsLevel',
    kind: oneOf(DIAGNOSTICS_LEVELS),
    standard: [{ name: 'OTEL_LOG_LEVEL' }],
    stacklight: 'STACKLIGHT_DIAGNOSTICS_LEVEL',
    default: 'warn',
  }),
  def({
    option: 'tracing.provider',
    kind: oneOf(['auto', 'stacklight', 'external'] as const),
    stacklight: 'STACKLIGHT_TRACING_PROVIDER',
    default: 'auto',
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
  def({
    option: 'shutdown.handleCrashes',
    kind: bool,
    stacklight: 'STACKLIGHT_HANDLE_CRASHES',
    default: true,
  }),
] as const;

/**
 * OTEL_SDK_DISABLED → tracing.enabled. OpenTelemetry's boolean rule: only
 * "true" (any case) disables; every other value leaves tracing on (and one
 * that is not "false" is warned about, see `bool`).
 */
function flipBool(raw: string): string {
  return raw.trim().toLowerCase() === 'true' ? 'false' : 'true';
}

/** The propagators of `OTEL_PROPAGATORS` that stacklight implements. */
export const SUPPORTED_PROPAGATORS = ['tracecontext', 'baggage'] as const;

/**
 * `OTEL_*` variables that stacklight reads besides those of {@link SETTINGS}:
 * `OTEL_PROPAGATORS` (checked, see resolve.ts) and the span and attribute
 * limits, which the OpenTelemetry tracer provider applies.
 */
export const OTHER_IMPLEMENTED_OTEL = [
  'OTEL_PROPAGATORS',
  'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_LINK_COUNT_LIMIT',
  'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
] as const;

/** Every `OTEL_*` variable stacklight implements; any other present is warned about at init(). */
export function implementedOtelVariables(): Set<string> {
  const names = new Set<string>(OTHER_IMPLEMENTED_OTEL);
  for (const s of SETTINGS as readonly Setting<unknown>[]) {
    for (const src of s.standard ?? []) {
      const name = src.name.split(' ')[0]!;
      if (name.startsWith('OTEL_')) names.add(name);
    }
  }
  return names;
}

/**
 * Variables of the OpenTelemetry SDK configuration that stacklight does not
 * implement (listed in the docs). Any `OTEL_*` variable not implemented —
 * these, or one misspelled — is named in one warning at init().
 */
export const UNIMPLEMENTED_OTEL_EXAMPLES = [
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_METRICS_EXEMPLAR_FILTER',
  'OTEL_EXPORTER_OTLP_METRICS_*',
  'OTEL_EXPORTER_OTLP_LOGS_*',
  'OTEL_EXPORTER_OTLP_INSECURE',
  'OTEL_EXPORTER_OTLP_TRACES_INSECURE',
  'OTEL_BLRP_*',
  'OTEL_LOGRECORD_ATTRIBUTE_*',
  'OTEL_EXPORTER_ZIPKIN_*',
  'OTEL_EXPORTER_JAEGER_*',
  'OTEL_EXPORTER_PROMETHEUS_*',
  'OTEL_CONFIG_FILE',
  'OTEL_NODE_RESOURCE_DETECTORS',
  'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
  'OTEL_NODE_DISABLED_INSTRUMENTATIONS',
  'OTEL_SEMCONV_STABILITY_OPT_IN',
] as const;
