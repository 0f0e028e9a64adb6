/**
 * Probe traffic: a request whose W3C `baggage` header has the member
 * `synthetic=true`. Its metrics go to `http_synthetic_requests_total`
 * instead of `http_requests_total` and `http_request_duration_seconds`, so
 * SLIs measure users only; its log line and span are written as usual.
 */
export const SYNTHETIC_BAGGAGE_KEY = 'synthetic';

/** Whether a `baggage` header value (or values) carries `synthetic=true`. */
export function isSyntheticBaggage(header: string | readonly string[] | undefined): boolean {
  if (header === undefined) return false;
  const text = typeof header === 'string' ? header : header.join(',');
  // Cheap pre-check: most baggage headers of real traffic do not mention it.
  if (!text.includes(SYNTHETIC_BAGGAGE_KEY)) return false;
  for (const member of text.split(',')) {
    const eq = member.indexOf('=');
    if (eq < 0) continue;
    if (member.slice(0, eq).trim() !== SYNTHETIC_BAGGAGE_KEY) continue;
    const value = member
      .slice(eq + 1)
      .split(';', 1)[0]!
      .trim();
    if (value === 'true') return true;
  }
  return false;
}
