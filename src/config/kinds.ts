import { accessSync, constants, statSync } from 'node:fs';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { ConfigError } from '../errors.js';

/**
 * Value kinds of configuration settings: how a value is checked when it comes
 * from an option and parsed when it comes from an environment variable, and
 * the sentence that says what is allowed (used in error messages and docs).
 */

/** Returned by a kind when the value is not allowed. */
export const INVALID: unique symbol = Symbol('invalid');

export interface Kind<T> {
  /** What is allowed, as it reads after "must be". */
  readonly allowed: string;
  fromOption(value: unknown): T | typeof INVALID;
  fromEnv(raw: string): T | typeof INVALID;
  /**
   * What an error message shows of a rejected value (default: the value).
   * Kinds whose values may be secrets (headers) hide them.
   */
  shown?(value: unknown): unknown;
  /** A warning about an accepted environment value (the OpenTelemetry boolean rule). */
  envWarning?(raw: string): string | undefined;
}

/** A non-empty string of printable characters, at most `max` long. */
function hasControlChar(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export function text(max = 256): Kind<string> {
  const check = (v: unknown): string | typeof INVALID =>
    typeof v === 'string' && v.trim() !== '' && v.length <= max && !hasControlChar(v)
      ? v.trim()
      : INVALID;
  return {
    allowed: `a non-empty string of at most ${max} printable characters`,
    fromOption: check,
    fromEnv: check,
  };
}

/**
 * A boolean. Environment values follow the OpenTelemetry rule: only `true`
 * (any case) is true; every other value is false, and one that is not
 * `false` is warned about (`1`, `yes`, `on` are false).
 */
export const bool: Kind<boolean> = {
  allowed: 'a boolean (true or false)',
  fromOption: (v) => (typeof v === 'boolean' ? v : INVALID),
  fromEnv: (raw) => raw.trim().toLowerCase() === 'true',
  envWarning: (raw) => {
    const v = raw.trim().toLowerCase();
    return v === 'true' || v === 'false'
      ? undefined
      : `is ${JSON.stringify(raw)}, which is read as false: only "true" (any case) is true`;
  },
};

/** A path to a readable file (PEM certificates and keys), checked at init(). */
export const readableFile: Kind<string> = {
  allowed: 'the path of a readable file',
  fromOption: (v) => (typeof v === 'string' && isReadableFile(v) ? v : INVALID),
  fromEnv: (raw) => (isReadableFile(raw.trim()) ? raw.trim() : INVALID),
};

function isReadableFile(path: string): boolean {
  if (path === '') return false;
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * A non-empty list drawn from a fixed set (environment: comma-separated,
 * case-insensitive; `OTEL_TRACES_EXPORTER=otlp,console`). A single value
 * is accepted as an option too. `none` stands alone.
 */
export function listOf<const T extends string>(values: readonly T[]): Kind<T[]> {
  const set = new Set<string>(values);
  const check = (list: readonly unknown[]): T[] | typeof INVALID => {
    if (list.length === 0 || !list.every((v) => typeof v === 'string' && set.has(v)))
      return INVALID;
    const unique = [...new Set(list as T[])];
    if (unique.length > 1 && unique.includes('none' as T)) return INVALID;
    return unique;
  };
  return {
    allowed: `one of ${values.map((v) => `"${v}"`).join(', ')}, or a list of them ("none" alone)`,
    fromOption: (v) => (typeof v === 'string' ? check([v]) : Array.isArray(v) ? check(v) : INVALID),
    fromEnv: (raw) =>
      check(
        raw
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter((s) => s !== ''),
      ),
  };
}

/** An integer in [min, max]; `note` follows the range in messages (`(0 = Sunday)`). */
export function int(min: number, max: number, note?: string): Kind<number> {
  const check = (v: unknown): number | typeof INVALID =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : INVALID;
  return {
    allowed: `an integer in [${min}, ${max}]${note === undefined ? '' : ` ${note}`}`,
    fromOption: check,
    fromEnv: (raw) => (/^\s*-?\d+\s*$/.test(raw) ? check(Number(raw)) : INVALID),
  };
}

/** Longest delay `setTimeout` honours: 2^31 - 1 ms (a longer one fires at once). */
export const MAX_TIMER_MS = 2_147_483_647;

/** A whole number of milliseconds in [min, 2^31 - 1]: a delay `setTimeout` honours. */
export function ms(min = 0): Kind<number> {
  return {
    ...int(min, MAX_TIMER_MS),
    allowed: `a whole number of milliseconds in [${min}, ${MAX_TIMER_MS}]`,
  };
}

/**
 * An option of a helper or adapter (checked when it is created, not by
 * `init()`) against its kind: the value, or a `ConfigError` naming the
 * option, the value and what the kind allows.
 */
export function checkOption<T>(option: string, value: unknown, kind: Kind<T>): T {
  const v = kind.fromOption(value);
  if (v === INVALID) throw new ConfigError(option, kind.shown?.(value) ?? value, kind.allowed);
  return v;
}

/** A finite number in [min, max]. */
export function ratio(min = 0, max = 1): Kind<number> {
  const check = (v: unknown): number | typeof INVALID =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max ? v : INVALID;
  return {
    allowed: `a number in [${min}, ${max}]`,
    fromOption: check,
    fromEnv: (raw) =>
      raw.trim() !== '' && /^[\s\d.eE+-]+$/.test(raw) ? check(Number(raw)) : INVALID,
  };
}

/** One of a fixed set of strings (environment values compared case-insensitively). */
export function oneOf<const T extends string>(values: readonly T[]): Kind<T> {
  const set = new Set<string>(values);
  return {
    allowed: `one of ${values.map((v) => `"${v}"`).join(', ')}`,
    fromOption: (v) => (typeof v === 'string' && set.has(v) ? (v as T) : INVALID),
    fromEnv: (raw) => {
      const v = raw.trim().toLowerCase();
      return set.has(v) ? (v as T) : INVALID;
    },
  };
}

/** An absolute http(s) URL. */
export const url: Kind<string> = {
  allowed: 'an absolute http:// or https:// URL',
  fromOption: (v) => (typeof v === 'string' ? parseUrl(v) : INVALID),
  fromEnv: (raw) => parseUrl(raw.trim()),
};

function parseUrl(v: string): string | typeof INVALID {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? v : INVALID;
  } catch {
    return INVALID;
  }
}

/** A list of non-empty strings (environment: comma-separated). */
export const stringList: Kind<string[]> = {
  allowed: 'an array of non-empty strings',
  fromOption: (v) =>
    Array.isArray(v) && v.every((s) => typeof s === 'string' && s !== '')
      ? [...(v as string[])]
      : INVALID,
  fromEnv: (raw) => {
    const list = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    return list.length > 0 ? list : INVALID;
  },
};

/**
 * A header map; environment form is the OTLP one: `key=value,key2=value2`
 * with percent-encoded values.
 */
export const headers: Kind<Record<string, string>> = {
  allowed:
    'an object of HTTP header names (tokens) and string values that HTTP allows (visible ASCII, ' +
    'spaces, tabs or Latin-1; no control characters, no "€") (environment: "key=value,key2=value2")',
  fromOption: (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return INVALID;
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (!validHeader(k, val)) return INVALID;
      out[k] = val as string;
    }
    return out;
  },
  fromEnv: (raw) => {
    const pairs = parseKeyValueList(raw);
    return pairs === INVALID ? INVALID : headers.fromOption(pairs);
  },
  // Header values are credentials more often than not: never in a message,
  // only their shape (names and lengths).
  shown: (v) => {
    if (typeof v === 'string') {
      return v
        .split(',')
        .map((item) => {
          const i = item.indexOf('=');
          if (i < 0) return `[${item.trim().length} chars, no "="]`;
          const k = item.slice(0, i).trim();
          const name = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) ? k : '[invalid name]';
          return `${name} [value of ${item.slice(i + 1).trim().length} chars]`;
        })
        .join(',');
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      out[/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) ? k : '[invalid name]'] = validHeader(k, val)
        ? '[hidden]'
        : '[hidden, invalid value]';
    }
    return out;
  },
};

/** Node's own checks, so that what init() accepts is what a request can send. */
function validHeader(name: string, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses the `key=value,key2=value2` lists of `OTEL_RESOURCE_ATTRIBUTES` and
 * `OTEL_EXPORTER_OTLP_HEADERS` (values percent-decoded, OTel's rules).
 */
export function parseKeyValueList(raw: string): Record<string, string> | typeof INVALID {
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) return INVALID;
    const key = part.slice(0, eq).trim();
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return INVALID;
    }
    if (key === '') return INVALID;
    out[key] = value;
  }
  return out;
}
