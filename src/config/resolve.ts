import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError, describe } from '../errors.js';
import type { LogFieldDeclarations } from '../logging/schema.js';
import type { MetricFamily } from '../metrics/catalog.js';
import type {
  DiagnosticsLevel,
  InstrumentationLike,
  LogLevel,
  OtlpProtocol,
  LoggingOptions,
  SamplerName,
  StacklightOptions,
  TracesExporterName,
  TracingIncoming,
} from '../types.js';
import { INVALID, parseKeyValueList } from './kinds.js';
import {
  SETTINGS,
  SUPPORTED_PROPAGATORS,
  implementedOtelVariables,
  type Setting,
} from './settings.js';

/** Configuration after precedence and validation; what the rooms receive. */
export interface ResolvedConfig {
  service: string;
  env: string;
  region: string;
  version: string;
  /**
   * Resource attributes of the service's telemetry: the pairs of
   * `OTEL_RESOURCE_ATTRIBUTES`, with `service.name`, `service.version`,
   * `deployment.environment.name` and `cloud.region` set from the resolved
   * settings above (which already let the option, `OTEL_SERVICE_NAME` and the
   * variable's own pairs take their turn).
   */
  resource: Record<string, string>;
  logging: {
    level: LogLevel;
    stackTraces: boolean;
    redactKeys: string[];
    redactPaths: string[];
    maxStringLength: number;
    /** The service's own log fields (`logging.fields`), checked. */
    fields: LogFieldDeclarations;
    destination: LoggingOptions['destination'];
    transport: LoggingOptions['transport'];
    diagnosticsLevel: DiagnosticsLevel;
  };
  metrics: {
    defaultMetrics: boolean;
    maxSeriesPerMetric: number;
    envLabels: boolean;
    port: number | undefined;
    host: string;
    path: string;
    token: string | undefined;
    collectTimeoutMs: number;
    /** Catalog families registered from the start (`metrics.families`). */
    families: MetricFamily[];
  };
  tracing: {
    enabled: boolean;
    /** One or more exporters; `['none']` exports nothing. */
    exporter: TracesExporterName[];
    endpoint: string;
    headers: Record<string, string>;
    sampler: SamplerName;
    sampleRatio: number;
    stackTraces: boolean;
    incoming: TracingIncoming;
    maxQueueSize: number;
    maxExportBatchSize: number;
    scheduledDelayMs: number;
    exportTimeoutMs: number;
    protocol: OtlpProtocol;
    compression: 'gzip' | 'none';
    certificate: string | undefined;
    clientCertificate: string | undefined;
    clientKey: string | undefined;
    spanProcessors: SpanProcessor[];
    provider: 'auto' | 'stacklight' | 'external';
    instrumentations: InstrumentationLike[];
  };
  sentry: { dsn: string | undefined; sampleRate: number; options: Record<string, unknown> };
  shutdown: { timeoutMs: number; handleSignals: boolean; handleCrashes: boolean };
  /**
   * What init() warns about once the logger exists: boolean variables that
   * are neither true nor false, unimplemented `OTEL_*` variables, values
   * lowered to fit the shutdown budget.
   */
  warnings: string[];
}

const SECTIONS: Record<string, readonly string[]> = {
  logging: [
    'level',
    'destination',
    'transport',
    'redactKeys',
    'redactPaths',
    'stackTraces',
    'maxStringLength',
    'diagnosticsLevel',
    'fields',
  ],
  metrics: [
    'defaultMetrics',
    'maxSeriesPerMetric',
    'envLabels',
    'port',
    'host',
    'path',
    'token',
    'collectTimeoutMs',
    'families',
  ],
  tracing: [
    'enabled',
    'exporter',
    'endpoint',
    'headers',
    'sampler',
    'sampleRatio',
    'stackTraces',
    'incoming',
    'maxQueueSize',
    'maxExportBatchSize',
    'scheduledDelayMs',
    'exportTimeoutMs',
    'protocol',
    'compression',
    'certificate',
    'clientCertificate',
    'clientKey',
    'spanProcessors',
    'provider',
    'instrumentations',
  ],
  sentry: ['dsn', 'sampleRate', 'options'],
  shutdown: ['timeoutMs', 'handleSignals', 'handleCrashes'],
};
const TOP_LEVEL = ['service', 'env', 'region', 'version', ...Object.keys(SECTIONS)];

function checkKnownKeys(options: StacklightOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError('options', options, 'an object');
  }
  for (const key of Object.keys(options)) {
    if (!TOP_LEVEL.includes(key)) {
      throw new ConfigError(
        key,
        (options as Record<string, unknown>)[key],
        `a known option (${TOP_LEVEL.join(', ')}); "${key}" is not one`,
      );
    }
  }
  for (const [section, keys] of Object.entries(SECTIONS)) {
    const value = (options as Record<string, unknown>)[section];
    if (value === undefined) continue;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ConfigError(section, value, 'an object');
    }
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) {
        throw new ConfigError(
          `${section}.${key}`,
          (value as Record<string, unknown>)[key],
          `a known option of ${section} (${keys.join(', ')}); "${key}" is not one`,
        );
      }
    }
  }
}

function optionAt(options: StacklightOptions, path: string): unknown {
  let v: unknown = options;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let t = target;
  for (const part of parts.slice(0, -1)) t = (t[part] ??= {}) as Record<string, unknown>;
  t[parts[parts.length - 1]!] = value;
}

function nonEmpty(v: string | undefined): v is string {
  return v !== undefined && v.trim() !== '';
}

/** Where a resolved value came from: `undefined` for the default. */
type Source = string | undefined;

/** Resolves one setting: option > standard variables > STACKLIGHT_* > default. */
function resolveSetting(
  setting: Setting<unknown>,
  options: StacklightOptions,
  env: NodeJS.ProcessEnv,
  resolved: Record<string, unknown>,
  warnings: string[],
): [unknown, Source] {
  const { kind } = setting;
  const fail = (name: string, value: unknown): never => {
    throw new ConfigError(name, kind.shown ? kind.shown(value) : value, kind.allowed);
  };
  const given = optionAt(options, setting.option);
  if (given !== undefined) {
    const v = kind.fromOption(given);
    if (v === INVALID) fail(setting.option, given);
    return [v, setting.option];
  }
  const fromEnv = (name: string, raw: string, mapped: string): [unknown, Source] => {
    const warning = kind.envWarning?.(raw);
    if (warning !== undefined) warnings.push(`${name} ${warning}`);
    const v = kind.fromEnv(mapped);
    if (v === INVALID) fail(name, raw);
    return [v, name];
  };
  for (const source of setting.standard ?? []) {
    const raw = source.read ? source.read(env) : env[source.name];
    if (!nonEmpty(raw)) continue;
    return fromEnv(source.name, raw, source.map ? source.map(raw) : raw);
  }
  if (setting.stacklight !== undefined && nonEmpty(env[setting.stacklight])) {
    const raw = env[setting.stacklight]!;
    return fromEnv(setting.stacklight, raw, raw);
  }
  const d =
    typeof setting.default === 'function' ? setting.default(resolved, env) : setting.default;
  return [d, undefined];
}

const RATIO_SAMPLERS = new Set(['traceidratio', 'parentbased_traceidratio']);

/** Options that are each valid but contradict each other, and values lowered to fit. */
function checkCombinations(
  config: ResolvedConfig,
  sources: Readonly<Record<string, Source>>,
  warnings: string[],
): void {
  const t = config.tracing;
  const ratioFrom = sources['tracing.sampleRatio'];
  if (ratioFrom !== undefined && !RATIO_SAMPLERS.has(t.sampler)) {
    throw new ConfigError(
      ratioFrom,
      t.sampleRatio,
      `left unset with the sampler "${t.sampler}" (${sources['tracing.sampler'] ?? 'the default'}), ` +
        'which takes no ratio; use "traceidratio" or "parentbased_traceidratio" to sample by ratio',
    );
  }
  const batchFrom = sources['tracing.maxExportBatchSize'];
  if (batchFrom !== undefined && t.maxExportBatchSize > t.maxQueueSize) {
    throw new ConfigError(
      batchFrom,
      t.maxExportBatchSize,
      `at most tracing.maxQueueSize (${t.maxQueueSize}): a batch cannot be larger than the queue it is taken from`,
    );
  }
  if ((t.clientCertificate === undefined) !== (t.clientKey === undefined)) {
    const [has, lacks] =
      t.clientKey === undefined
        ? ['tracing.clientCertificate', 'tracing.clientKey']
        : ['tracing.clientKey', 'tracing.clientCertificate'];
    throw new ConfigError(
      sources[has] ?? has,
      '[path]',
      `given together with ${lacks} (mutual TLS needs both the certificate and its key)`,
    );
  }
  if (t.exportTimeoutMs > config.shutdown.timeoutMs) {
    const from = sources['tracing.exportTimeoutMs'];
    if (from !== undefined) {
      warnings.push(
        `${from}=${t.exportTimeoutMs} is longer than the shutdown budget (shutdown.timeoutMs=${config.shutdown.timeoutMs}); ` +
          `exports are bounded to ${config.shutdown.timeoutMs} ms so that shutdown can always finish`,
      );
    }
    t.exportTimeoutMs = config.shutdown.timeoutMs;
  }
}

/**
 * `OTEL_PROPAGATORS`: stacklight propagates W3C trace context and baggage;
 * any other propagator listed is named in a warning (it is not used).
 */
function checkPropagators(env: NodeJS.ProcessEnv, warnings: string[]): void {
  const raw = env.OTEL_PROPAGATORS;
  if (!nonEmpty(raw)) return;
  const supported = new Set<string>(SUPPORTED_PROPAGATORS);
  const others = raw
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== '' && !supported.has(p));
  if (others.length > 0) {
    warnings.push(
      `OTEL_PROPAGATORS lists ${others.map((p) => `"${p}"`).join(', ')}, which stacklight does not implement: ` +
        'it reads and writes W3C traceparent/tracestate and baggage only ("tracecontext,baggage")',
    );
  }
}

/** One warning naming every `OTEL_*` variable present that stacklight does not implement. */
function checkUnimplemented(env: NodeJS.ProcessEnv, warnings: string[]): void {
  const implemented = implementedOtelVariables();
  const ignored = Object.keys(env)
    .filter((k) => k.startsWith('OTEL_') && !implemented.has(k) && nonEmpty(env[k]))
    .sort();
  if (ignored.length > 0) {
    warnings.push(
      `these OpenTelemetry variables are set but not implemented by stacklight, and are ignored: ${ignored.join(', ')} ` +
        '(docs/configuration.md lists the ones it implements)',
    );
  }
}

/**
 * Turns options and environment into one validated configuration.
 *
 * Precedence, for every setting (the table is `SETTINGS`):
 * 1. the explicit option passed to `init()`;
 * 2. the standard variables (`OTEL_*`, `SENTRY_DSN`), in the order the
 *    table lists them (`OTEL_SERVICE_NAME` before `service.name` in
 *    `OTEL_RESOURCE_ATTRIBUTES`, the traces-specific endpoint before the
 *    generic one);
 * 3. the `STACKLIGHT_*` variable;
 * 4. the default.
 *
 * An empty variable counts as unset (OpenTelemetry's rule). Any invalid value,
 * from any source, throws a {@link ConfigError} naming the option or variable,
 * the value given and what is allowed; nothing is silently skipped.
 */
export function resolveConfig(
  options: StacklightOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedConfig {
  checkKnownKeys(options);
  const attrs = env.OTEL_RESOURCE_ATTRIBUTES;
  const resourcePairs = nonEmpty(attrs) ? parseKeyValueList(attrs) : {};
  if (resourcePairs === INVALID) {
    throw new ConfigError(
      'OTEL_RESOURCE_ATTRIBUTES',
      attrs,
      'a comma-separated list of key=value pairs with percent-encoded values',
    );
  }
  const resolved: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  const warnings: string[] = [];
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS as readonly Setting<unknown>[]) {
    const [v, source] = resolveSetting(setting, options, env, resolved, warnings);
    resolved[setting.option] = v;
    sources[setting.option] = source;
    setAt(out, setting.option, v);
  }
  if (resolved.service === undefined) {
    throw new ConfigError(
      'service',
      undefined,
      'set by the "service" option, OTEL_SERVICE_NAME, service.name in OTEL_RESOURCE_ATTRIBUTES or STACKLIGHT_SERVICE',
    );
  }
  const logging = options.logging ?? {};
  if (logging.destination !== undefined && !isWritable(logging.destination)) {
    throw new ConfigError(
      'logging.destination',
      logging.destination,
      'a writable stream (an object with a write() method)',
    );
  }
  if (
    logging.transport !== undefined &&
    (typeof logging.transport !== 'object' || logging.transport === null)
  ) {
    throw new ConfigError(
      'logging.transport',
      logging.transport,
      'a pino transport options object',
    );
  }
  if (logging.destination !== undefined && logging.transport !== undefined) {
    throw new ConfigError(
      'logging.transport',
      '[transport]',
      'left unset when logging.destination is set (choose one)',
    );
  }
  const processors = options.tracing?.spanProcessors ?? [];
  if (!Array.isArray(processors) || !processors.every(isSpanProcessor)) {
    throw new ConfigError(
      'tracing.spanProcessors',
      describe(processors),
      'an array of SpanProcessor objects (onStart, onEnd, forceFlush, shutdown)',
    );
  }
  const instrumentations = options.tracing?.instrumentations ?? [];
  if (!Array.isArray(instrumentations) || !instrumentations.every(isInstrumentation)) {
    throw new ConfigError(
      'tracing.instrumentations',
      describe(instrumentations),
      'an array of OpenTelemetry instrumentations (setTracerProvider, enable, disable)',
    );
  }
  const sentryOptions = resolveSentryOptions(options.sentry?.options);
  const path = (out.metrics as { path: string }).path;
  if (!path.startsWith('/'))
    throw new ConfigError('metrics.path', path, 'a path starting with "/"');
  const config = out as unknown as ResolvedConfig;
  config.logging.destination = logging.destination;
  config.logging.transport = logging.transport;
  config.tracing.spanProcessors = [...processors];
  config.warnings = warnings;
  checkCombinations(config, sources, warnings);
  checkPropagators(env, warnings);
  checkUnimplemented(env, warnings);
  config.sentry.options = sentryOptions;
  config.tracing.instrumentations = [...instrumentations];
  config.resource = {
    ...resourcePairs,
    'service.name': config.service,
    'service.version': config.version,
    'deployment.environment.name': config.env,
    'cloud.region': config.region,
  };
  return config;
}

/** `sentry.options`: Sentry's own init options, minus the ones stacklight sets from its own settings. */
function resolveSentryOptions(given: unknown): Record<string, unknown> {
  if (given === undefined) return {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError('sentry.options', describe(given), "an object of Sentry's init options");
  }
  const own: Record<string, string> = { dsn: 'sentry.dsn', sampleRate: 'sentry.sampleRate' };
  for (const [key, option] of Object.entries(own)) {
    if (key in given) {
      throw new ConfigError(`sentry.options.${key}`, '[set]', `left unset (use ${option})`);
    }
  }
  return { ...(given as Record<string, unknown>) };
}

function isWritable(v: unknown): v is NonNullable<LoggingOptions['destination']> {
  return (
    typeof v === 'object' && v !== null && typeof (v as { write?: unknown }).write === 'function'
  );
}

function isInstrumentation(v: unknown): v is InstrumentationLike {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return ['setTracerProvider', 'enable', 'disable'].every((m) => typeof p[m] === 'function');
}

function isSpanProcessor(v: unknown): v is SpanProcessor {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return ['onStart', 'onEnd', 'forceFlush', 'shutdown'].every((m) => typeof p[m] === 'function');
}
