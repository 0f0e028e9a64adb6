import { ConfigError } from '../errors.js';
import { checkOption, ms } from '../config/kinds.js';
import type { BaseClientOptions } from './types.js';

/**
 * Validation of client options. Like `init()`, a client fails fast when it is
 * created, naming the option, the value and what is allowed; requests never
 * throw for configuration reasons.
 */

/** `undefined`, or a whole number of ms in [0, 2^31 - 1] (setTimeout's range). */
export function checkTimeout(option: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkOption(option, value, ms());
}

/** `undefined`, or an absolute http(s) URL. */
export function checkBaseUrl(option: string, value: unknown): URL | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    if (typeof value === 'string' || value instanceof URL) url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(
      option,
      value instanceof URL ? value.href : value,
      'an absolute http(s) URL',
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(option, url.host, 'a URL without credentials (pass them in headers)');
  }
  return url;
}

const LABEL_VALUE = /^[a-z][a-z0-9_.-]{0,62}$/;

/**
 * A metric label value fixed at creation (`vendor`): lowercase, starting with
 * a letter, up to 63 characters of `[a-z0-9_.-]`. Fixed per client, so the
 * label stays bounded by the number of clients a service creates.
 */
export function checkLabelValue(option: string, value: unknown): string {
  if (typeof value !== 'string' || !LABEL_VALUE.test(value)) {
    throw new ConfigError(
      option,
      value,
      'a lowercase name matching /^[a-z][a-z0-9_.-]{0,62}$/ (e.g. "binance")',
    );
  }
  return value;
}

/** `undefined`, or a function. */
export function checkFunction<T>(option: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new ConfigError(option, value, 'a function');
  }
  return value;
}

/**
 * The options every client shares (`baseUrl`, `timeoutMs`, `fetch`,
 * `headers`), validated once; errors name the option under `prefix`
 * (`vendorClient.timeoutMs`).
 */
export function checkBaseOptions(prefix: string, options: BaseClientOptions) {
  return {
    baseUrl: checkBaseUrl(`${prefix}.baseUrl`, options.baseUrl),
    timeoutMs: checkTimeout(`${prefix}.timeoutMs`, options.timeoutMs),
    fetch: checkFunction(`${prefix}.fetch`, options.fetch),
    headers: options.headers,
  };
}
