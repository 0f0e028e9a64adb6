import { LOG_LEVELS } from '../logging/schema.js';
import { checkOption, ms } from '../config/kinds.js';
import { ConfigError } from '../errors.js';
import type { Telemetry } from '../types.js';
import type {
  HttpTelemetryOptions,
  ReadinessCheck,
  ReadinessCheckFn,
  RequestErrorHook,
  RequestLogLevel,
} from './types.js';

/** Defaults of {@link HttpTelemetryOptions}, in one place. */
export const HTTP_DEFAULTS = Object.freeze({
  requestIdHeader: 'x-request-id',
  trustRequestId: true,
  logLevels: Object.freeze({ serverError: 'error', clientError: 'warn', success: 'info' }),
  metricsPath: '/metrics',
  healthPath: '/healthz',
  readinessPath: '/readyz',
  readinessTimeoutMs: 1000,
  drainGraceMs: 0,
} as const);

/** One readiness check after validation. */
export interface ResolvedCheck {
  name: string;
  check: ReadinessCheckFn;
  timeoutMs: number;
}

/** Options after defaults and validation; what the lifecycle receives. */
export interface ResolvedHttpOptions {
  requestIdHeader: string;
  trustRequestId: boolean;
  userId: ((req: unknown) => unknown) | undefined;
  /** Logger method per status class (index `status / 100`), `undefined` = no line. */
  levelByClass: readonly (RequestLogLevel | undefined)[];
  excludeFromLogs: ReadonlySet<string>;
  excludeFromMetrics: ReadonlySet<string>;
  excludeFromTraces: ReadonlySet<string>;
  metricsPath: string | undefined;
  healthPath: string | undefined;
  readinessPath: string | undefined;
  checks: ResolvedCheck[];
  drainGraceMs: number;
  onError: RequestErrorHook | undefined;
}

const LEVELS: ReadonlySet<string> = new Set([...LOG_LEVELS, 'silent']);
const KNOWN_OPTIONS: ReadonlySet<string> = new Set([
  'requestIdHeader',
  'trustRequestId',
  'userId',
  'logLevels',
  'excludeFromLogs',
  'excludeFromMetrics',
  'excludeFromTraces',
  'metricsEndpoint',
  'healthEndpoint',
  'readinessEndpoint',
  'readinessChecks',
  'readinessTimeoutMs',
  'drainGraceMs',
  'onError',
]);
// RFC 9110 token characters, lower case (Node lower-cases incoming header names).
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(option, value, 'true or false');
  return value;
}

/** A delay option (ms, within setTimeout's range), `fallback` when not given. */
function delay(option: string, value: unknown, fallback: number, min = 0): number {
  return value === undefined ? fallback : checkOption(option, value, ms(min));
}

function fn<T>(option: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new ConfigError(option, value, 'a function');
  return value as T;
}

function endpointPath(option: string, value: unknown, fallback: string): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return fallback;
  if (
    typeof value !== 'string' ||
    !value.startsWith('/') ||
    value.includes('?') ||
    /\s/.test(value)
  ) {
    throw new ConfigError(option, value, 'true, false or a path starting with "/"');
  }
  return value;
}

function templates(
  option: string,
  value: unknown,
  fallback: readonly string[],
): ReadonlySet<string> {
  if (value === undefined) return new Set(fallback);
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new ConfigError(option, value, 'an array of route templates (strings)');
  }
  return new Set(value as string[]);
}

function level(option: string, value: unknown, fallback: RequestLogLevel): RequestLogLevel {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !LEVELS.has(value)) {
    throw new ConfigError(option, value, `one of ${[...LEVELS].join(', ')}`);
  }
  return value as RequestLogLevel;
}

function checks(value: unknown, defaultTimeout: number): ResolvedCheck[] {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      'readinessChecks',
      value,
      'an object of named checks ({ db: () => pool.query("select 1") })',
    );
  }
  const out: ResolvedCheck[] = [];
  for (const [name, raw] of Object.entries(value as Record<string, ReadinessCheck>)) {
    const option = `readinessChecks.${name}`;
    if (typeof raw === 'function') {
      out.push({ name, check: raw, timeoutMs: defaultTimeout });
    } else if (raw !== null && typeof raw === 'object' && typeof raw.check === 'function') {
      out.push({
        name,
        check: raw.check,
        timeoutMs: delay(`${option}.timeoutMs`, raw.timeoutMs, defaultTimeout, 1),
      });
    } else {
      throw new ConfigError(option, raw, 'a function or { check: function, timeoutMs?: number }');
    }
  }
  return out;
}

/**
 * Applies defaults and validates. Throws a `ConfigError` naming the option,
 * the value and what is allowed; unknown option names are errors too (a typo
 * would otherwise silently keep a default).
 */
export function resolveHttpOptions(
  options: HttpTelemetryOptions<never> | undefined,
  ignore: readonly string[] = [],
): ResolvedHttpOptions {
  const o = (options ?? {}) as Record<string, unknown>;
  if (typeof o !== 'object' || o === null) throw new ConfigError('options', options, 'an object');
  for (const key of Object.keys(o)) {
    if (!KNOWN_OPTIONS.has(key) && !ignore.includes(key)) {
      throw new ConfigError(key, o[key], `a known option (${[...KNOWN_OPTIONS].join(', ')})`);
    }
  }

  const header = o['requestIdHeader'] ?? HTTP_DEFAULTS.requestIdHeader;
  if (typeof header !== 'string' || !HEADER_NAME.test(header.toLowerCase())) {
    throw new ConfigError('requestIdHeader', header, 'a header name (RFC 9110 token)');
  }

  const rawLevels = o['logLevels'];
  if (rawLevels !== undefined && (rawLevels === null || typeof rawLevels !== 'object')) {
    throw new ConfigError(
      'logLevels',
      rawLevels,
      'an object { serverError?, clientError?, success? }',
    );
  }
  const lv = (rawLevels ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(lv)) {
    if (key !== 'serverError' && key !== 'clientError' && key !== 'success') {
      throw new ConfigError(
        `logLevels.${key}`,
        lv[key],
        'one of the keys serverError, clientError, success',
      );
    }
  }
  const d = HTTP_DEFAULTS.logLevels;
  const success = level('logLevels.success', lv['success'], d.success);
  const clientError = level('logLevels.clientError', lv['clientError'], d.clientError);
  const serverError = level('logLevels.serverError', lv['serverError'], d.serverError);
  const cls = (l: RequestLogLevel): RequestLogLevel | undefined => (l === 'silent' ? undefined : l);
  const levelByClass = [
    cls(serverError),
    cls(success),
    cls(success),
    cls(success),
    cls(clientError),
    cls(serverError),
  ];

  const metricsPath = endpointPath(
    'metricsEndpoint',
    o['metricsEndpoint'],
    HTTP_DEFAULTS.metricsPath,
  );
  const healthPath = endpointPath('healthEndpoint', o['healthEndpoint'], HTTP_DEFAULTS.healthPath);
  const readinessPath = endpointPath(
    'readinessEndpoint',
    o['readinessEndpoint'],
    HTTP_DEFAULTS.readinessPath,
  );
  const endpointDefaults = [
    metricsPath ?? HTTP_DEFAULTS.metricsPath,
    healthPath ?? HTTP_DEFAULTS.healthPath,
    readinessPath ?? HTTP_DEFAULTS.readinessPath,
  ];
  const distinct = [metricsPath, healthPath, readinessPath].filter((p) => p !== undefined);
  if (new Set(distinct).size !== distinct.length) {
    throw new ConfigError(
      'metricsEndpoint/healthEndpoint/readinessEndpoint',
      distinct,
      'three different paths',
    );
  }

  const readinessTimeoutMs = delay(
    'readinessTimeoutMs',
    o['readinessTimeoutMs'],
    HTTP_DEFAULTS.readinessTimeoutMs,
    1,
  );
  return {
    requestIdHeader: header.toLowerCase(),
    trustRequestId: bool('trustRequestId', o['trustRequestId'], HTTP_DEFAULTS.trustRequestId),
    userId: fn('userId', o['userId']),
    levelByClass,
    excludeFromLogs: templates('excludeFromLogs', o['excludeFromLogs'], endpointDefaults),
    excludeFromMetrics: templates('excludeFromMetrics', o['excludeFromMetrics'], endpointDefaults),
    excludeFromTraces: templates('excludeFromTraces', o['excludeFromTraces'], endpointDefaults),
    metricsPath,
    healthPath,
    readinessPath,
    checks: checks(o['readinessChecks'], readinessTimeoutMs),
    drainGraceMs: delay('drainGraceMs', o['drainGraceMs'], HTTP_DEFAULTS.drainGraceMs),
    onError: fn('onError', o['onError']),
  };
}

/** The `telemetry` argument, checked: the handle `init()` returned. */
export function checkTelemetry(telemetry: unknown): Telemetry {
  const t = telemetry as Partial<Telemetry> | undefined | null;
  if (
    t === undefined ||
    t === null ||
    typeof t.metricsHandler !== 'function' ||
    typeof t.onShutdown !== 'function'
  ) {
    throw new ConfigError('telemetry', telemetry, 'the Telemetry handle returned by init()');
  }
  return t as Telemetry;
}
