import { KNOWN_HTTP_METHODS } from '../http-methods.js';
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_METHOD_ORIGINAL,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';

/** `url.template` (incubating in semconv 1.45, so spelled out here). */
export const ATTR_URL_TEMPLATE = 'url.template';
/**
 * `peer.service`: deprecated in recent semconv in favour of
 * `server.service.name`, but it is what Tempo's and Jaeger's service graphs
 * read today, so it is the one that draws the Edge → Core → AI Coach edges.
 */
export const ATTR_PEER_SERVICE = 'peer.service';

/** HTTP methods semconv knows; anything else is `_OTHER` (bounded cardinality). */
const KNOWN_METHODS = KNOWN_HTTP_METHODS;

const ABSOLUTE = /^[a-z][a-z\d+.-]*:/i;

/**
 * The request URL: an absolute `input` as is, a relative one appended to
 * `base` keeping the base's path (`http://core/internal` + `/trades` →
 * `http://core/internal/trades`, where `new URL()` would drop `/internal`).
 */
export function resolveUrl(input: string | URL, base: URL | undefined): URL {
  if (input instanceof URL) return input;
  if (ABSOLUTE.test(input) || base === undefined) return new URL(input);
  const prefix = base.href.endsWith('/') ? base.href.slice(0, -1) : base.href;
  const rest = input.startsWith('/') || input.startsWith('?') ? input : '/' + input;
  return new URL(prefix + rest);
}

/** The URL for `url.full`: scheme, host, port and path; never credentials, query or fragment. */
export function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function defaultPort(protocol: string): number | undefined {
  if (protocol === 'https:') return 443;
  if (protocol === 'http:') return 80;
  return undefined;
}

/** The method as semconv wants it: uppercase if known, else `_OTHER`. */
export function normalizeMethod(method: string | undefined): { method: string; original?: string } {
  const raw = method ?? 'GET';
  const upper = raw.toUpperCase();
  if (KNOWN_METHODS.has(upper))
    return upper === raw ? { method: upper } : { method: upper, original: raw };
  return { method: '_OTHER', original: raw };
}

/**
 * Attributes of an HTTP client span (semconv "HTTP client span", stable):
 * method, `server.address`, `server.port`, `url.full` without query string
 * or credentials, and `url.template` when known.
 */
export function clientSpanAttributes(
  url: URL,
  method: { method: string; original?: string },
  urlTemplate: string | undefined,
): Attributes {
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: method.method,
    [ATTR_SERVER_ADDRESS]: url.hostname,
    [ATTR_URL_FULL]: safeUrl(url),
  };
  const port = url.port === '' ? defaultPort(url.protocol) : Number(url.port);
  if (port !== undefined) attributes[ATTR_SERVER_PORT] = port;
  if (method.original !== undefined)
    attributes[ATTR_HTTP_REQUEST_METHOD_ORIGINAL] = method.original;
  if (urlTemplate !== undefined && urlTemplate !== '') attributes[ATTR_URL_TEMPLATE] = urlTemplate;
  return attributes;
}

/**
 * semconv's client span name: `{method} {url.template}`, or `{method}`
 * alone without a template (`HTTP` for an unknown method). Never the raw
 * path, which would blow up span-name cardinality.
 */
export function clientSpanName(method: string, urlTemplate: string | undefined): string {
  const m = method === '_OTHER' ? 'HTTP' : method;
  return urlTemplate !== undefined && urlTemplate !== '' ? `${m} ${urlTemplate}` : m;
}
