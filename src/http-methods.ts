/**
 * The HTTP methods kept as themselves in metric labels, span names and span
 * attributes: RFC 9110's, PATCH (RFC 5789) and QUERY — the OpenTelemetry
 * HTTP semantic conventions' known set. Anything else folds to one value
 * (`_OTHER`), so that the method can never grow cardinality.
 */
export const HTTP_METHODS = [
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'QUERY',
  'TRACE',
] as const;

/** {@link HTTP_METHODS} as a set, for lookups. */
export const KNOWN_HTTP_METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);
