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

export const bool: Kind<boolean> = {
  allowed: 'a boolean (true or false)',
  fromOption: (v) => (typeof v === 'boolean' ? v : INVALID),
  fromEnv: (raw) => {
    const v = raw.trim().toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    return INVALID;
  },
};

/** An integer in [min, max]. */
export function int(min: number, max: number): Kind<number> {
  const check = (v: unknown): number | typeof INVALID =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : INVALID;
  return {
    allowed: `an integer in [${min}, ${max}]`,
    fromOption: check,
    fromEnv: (raw) => (/^\s*-?\d+\s*$/.test(raw) ? check(Number(raw)) : INVALID),
  };
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
  allowed: 'an object of string header values (environment: "key=value,key2=value2")',
  fromOption: (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return INVALID;
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k) || /[\r\n]/.test(val))
        return INVALID;
      out[k] = val;
    }
    return out;
  },
  fromEnv: (raw) => {
    const pairs = parseKeyValueList(raw);
    return pairs === INVALID ? INVALID : headers.fromOption(pairs);
  },
};

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
