import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError, describe } from '../errors.js';
import type {
  LogLevel,
  LoggingOptions,
  SamplerName,
  StacklightOptions,
  TracesExporterName,
  TracingIncoming,
} from '../types.js';
import { INVALID, parseKeyValueList } from './kinds.js';
import { SETTINGS, type Setting } from './settings.js';

/** Configuration after precedence and validation; what the rooms receive. */
export interface ResolvedConfig {
  service: string;
  env: string;
  region: string;
  version: string;
  logging: {
    level: LogLevel;
    stackTraces: boolean;
    redactKeys: string[];
    redactPaths: string[];
    maxStringLength: number;
    destination: LoggingOptions['destination'];
    transport: LoggingOptions['transport'];
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
  };
  tracing: {
    enabled: boolean;
    exporter: TracesExporterName;
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
    spanProcessors: SpanProcessor[];
  };
  sentry: { dsn: string | undefined; sampleRate: number };
  shutdown: { timeoutMs: number; handleSignals: boolean };
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
    'spanProcessors',
  ],
  sentry: ['dsn', 'sampleRate'],
  shutdown: ['timeoutMs', 'handleSignals'],
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

/** Resolves one setting: option > standard variables > STACKLIGHT_* > default. */
function resolveSetting(
  setting: Setting<unknown>,
  options: StacklightOptions,
  env: NodeJS.ProcessEnv,
  resolved: Record<string, unknown>,
): unknown {
  const given = optionAt(options, setting.option);
  if (given !== undefined) {
    const v = setting.kind.fromOption(given);
    if (v === INVALID) throw new ConfigError(setting.option, given, setting.kind.allowed);
    return v;
  }
  for (const source of setting.standard ?? []) {
    const raw = source.read ? source.read(env) : env[source.name];
    if (!nonEmpty(raw)) continue;
    const v = setting.kind.fromEnv(source.map ? source.map(raw) : raw);
    if (v === INVALID) throw new ConfigError(source.name, raw, setting.kind.allowed);
    return v;
  }
  if (setting.stacklight !== undefined && nonEmpty(env[setting.stacklight])) {
    const raw = env[setting.stacklight]!;
    const v = setting.kind.fromEnv(raw);
    if (v === INVALID) throw new ConfigError(setting.stacklight, raw, setting.kind.allowed);
    return v;
  }
  return typeof setting.default === 'function' ? setting.default(resolved, env) : setting.default;
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
  if (nonEmpty(attrs) && parseKeyValueList(attrs) === INVALID) {
    throw new ConfigError(
      'OTEL_RESOURCE_ATTRIBUTES',
      attrs,
      'a comma-separated list of key=value pairs with percent-encoded values',
    );
  }
  const resolved: Record<string, unknown> = {};
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS as readonly Setting<unknown>[]) {
    const v = resolveSetting(setting, options, env, resolved);
    resolved[setting.option] = v;
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
  const path = (out.metrics as { path: string }).path;
  if (!path.startsWith('/'))
    throw new ConfigError('metrics.path', path, 'a path starting with "/"');
  const config = out as unknown as ResolvedConfig;
  config.logging.destination = logging.destination;
  config.logging.transport = logging.transport;
  config.tracing.spanProcessors = [...processors];
  return config;
}

function isWritable(v: unknown): v is NonNullable<LoggingOptions['destination']> {
  return (
    typeof v === 'object' && v !== null && typeof (v as { write?: unknown }).write === 'function'
  );
}

function isSpanProcessor(v: unknown): v is SpanProcessor {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return ['onStart', 'onEnd', 'forceFlush', 'shutdown'].every((m) => typeof p[m] === 'function');
}
