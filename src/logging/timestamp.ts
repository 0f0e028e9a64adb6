/**
 * The `,"ts":"<ISO-8601>"` fragment of a log line.
 *
 * `Date.prototype.toISOString()` formats the whole date on every call (V8
 * goes through a printf-style formatter): ~7 000 instructions, counted with
 * callgrind, as much as a fifth of stacklight's own cost of a request. A
 * service writing fewer than a thousand lines a second pays it on nearly
 * every line, since lines rarely share a millisecond. So the text up to the
 * minute is formatted once per minute, and a line appends seconds and
 * milliseconds; a line in the same millisecond as the previous one reuses it.
 */

const MINUTE_MS = 60_000;

let lastMs = Number.NaN;
let lastTs = '';
/** Start (epoch ms) of the minute `minutePrefix` belongs to. */
let minuteStart = Number.NaN;
/** `,"ts":"YYYY-MM-DDTHH:MM:` of that minute, or '' for a year `toISOString` writes with 6 digits. */
let minutePrefix = '';

/** The timestamp fragment for `now` (epoch ms, an integer). */
export function timestampAt(now: number): string {
  if (now === lastMs) return lastTs;
  lastMs = now;
  const inMinute = now - minuteStart;
  if (!(inMinute >= 0 && inMinute < MINUTE_MS)) {
    minuteStart = now - (((now % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
    const iso = new Date(minuteStart).toISOString();
    // 24 characters for years 0000–9999; beyond, the full format every time.
    minutePrefix = iso.length === 24 ? ',"ts":"' + iso.slice(0, 17) : '';
  }
  if (minutePrefix === '') {
    lastTs = ',"ts":"' + new Date(now).toISOString() + '"';
    return lastTs;
  }
  const ms = now - minuteStart;
  const s = (ms / 1000) | 0;
  const milli = ms - s * 1000;
  lastTs =
    minutePrefix +
    (s < 10 ? '0' : '') +
    s +
    (milli < 10 ? '.00' : milli < 100 ? '.0' : '.') +
    milli +
    'Z"';
  return lastTs;
}

/** pino `timestamp` option: the fragment for the current time. */
export function isoTimestamp(): string {
  return timestampAt(Date.now());
}
