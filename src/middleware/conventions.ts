import { HTTP_METHODS } from '../http-methods.js';
/**
 * The HTTP conventions shared by every adapter, as data: the label values
 * that are not taken from the request (unmatched route, aborted code, folded
 * method) and the lookup tables that turn a request into bounded labels
 * without a regex or an allocation per request.
 */

/**
 * `route` of a request that matched no route (404s of unknown URLs, requests
 * answered by middleware before routing). Not a path (no leading slash), so it
 * can never collide with a route template, and one value for every unknown
 * URL, so a flood of random URLs adds no series.
 */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * `code` of a request whose response did not complete: the client closed the
 * connection first, the connection was destroyed, or the process shut down
 * before the handler answered. 499 is nginx's "client closed request": it is
 * a 4xx, so the spec's availability SLI (`code=~"5.."`) does not count it as a
 * server failure, and it is still distinct from every code a server sends.
 */
export const ABORTED_STATUS = 499;

/** `method` of a request whose method is outside the standard set (OpenTelemetry semconv). */
export const OTHER_METHOD = '_OTHER';

/**
 * Methods kept as themselves: RFC 9110's, PATCH (RFC 5789) and QUERY, the
 * OpenTelemetry HTTP semantic conventions' known set. A null-prototype object
 * lookup: Node passes the method as the parser produced it (upper case), and
 * anything else (`PROPFIND`, `get`) folds to {@link OTHER_METHOD}.
 */
const METHOD_LABELS: Readonly<Record<string, string>> = Object.assign(
  Object.create(null) as Record<string, string>,
  Object.fromEntries(HTTP_METHODS.map((m) => [m, m])),
);

/** The `method` label of a request method: itself when standard, `_OTHER` otherwise. */
export function methodLabel(method: string | undefined): string {
  return (method !== undefined && METHOD_LABELS[method]) || OTHER_METHOD;
}

/**
 * `code` label values, indexed by status: a string per valid status so that
 * recording a request never converts a number to a string.
 */
const CODE_LABELS: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i));

/** The `code` label of a status (a valid HTTP status, else `500`). */
export function codeLabel(status: number): string {
  return (status >= 100 && status <= 599 && CODE_LABELS[status]) || '500';
}

/** A status code as a valid HTTP status: an integer in [100, 599], else 500. */
export function validStatus(status: unknown): number {
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599
    ? status
    : 500;
}

/**
 * The HTTP status an error asks for (`status` or `statusCode`, as set by
 * http-errors, body-parser and Fastify), when it is a 4xx or 5xx; otherwise 500.
 */
export function statusOfError(err: unknown): number {
  if (err === null || typeof err !== 'object') return 500;
  try {
    const e = err as { status?: unknown; statusCode?: unknown };
    const s = typeof e.statusCode === 'number' ? e.statusCode : e.status;
    return typeof s === 'number' && Number.isInteger(s) && s >= 400 && s <= 599 ? s : 500;
  } catch {
    return 500;
  }
}
