import { context, trace, INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import type pino from 'pino';
import { activeFrame, sharesTraceContext } from '../context.js';
import { isLowerHex } from './context-fields.js';
import { jsonString } from './line-json.js';
import { BOUND_EXTRA, BOUND_KEYS, type LoggerState } from './line.js';
import { S, type PinoInternals } from '../internals/pino.js';

/**
 * The request line (`{status, latency_ms}` + a constant message, written once
 * per HTTP request) assembled straight into its JSON text, without pino's
 * generic path (mixin, line object, key-by-key serialization). The output is
 * the line pino would write — same fields, same order, same scrubbing — and a
 * test compares the two for every shape of request.
 *
 * Taken only while nothing could make the generic path write something
 * different: the root logger of `createLogger` with no `redact` paths and no
 * schema-field bindings, a destination that does not ask pino for metadata,
 * a context with only the HTTP fields, valid trace ids. Anything else
 * returns `false` and the caller logs through pino.
 */
export type RequestLineWriter = (
  /** A pino level name; `fatal` and `silent` always take the generic path. */
  level: string,
  status: number,
  latencyMs: number,
  /** The message, one of a few constants (serialized once, cached). */
  msg: string,
) => boolean;

/** Where `createLogger` leaves the writer on the root logger it returns. */
export const REQUEST_LINE: unique symbol = Symbol('stacklight.log.requestLine');

type RootLogger = PinoInternals &
  LoggerState & {
    [REQUEST_LINE]?: RequestLineWriter;
  };

/** A context field the direct path can write: a string, or unset. */
function stringOrUnset(value: unknown): value is string | undefined {
  return value === undefined || typeof value === 'string';
}

/** `,"key":"value"` for a string already scrubbed. */
function fieldText(key: string, clean: string): string {
  return ',"' + key + '":' + jsonString(clean);
}

/** `,"key":"value"` for a context field, '' when unset. */
function stringField(key: string, value: string | undefined, scrub: (s: string) => string): string {
  return value === undefined ? '' : fieldText(key, scrub(value));
}

/** Most values whose field text a {@link FieldCache} keeps. */
const MAX_CACHED_FIELDS = 256;

/**
 * The text of one field (`route`, `method`) by value: those come from a
 * small set (route templates, method labels), so the scrub and the JSON
 * escaping are done once per value. Only values the scrubber leaves
 * unchanged are kept, so every redaction is still counted where it happens.
 */
class FieldCache {
  private readonly texts = new Map<string, string>();

  constructor(
    private readonly key: string,
    private readonly scrub: (s: string) => string,
  ) {}

  text(value: string | undefined): string {
    if (value === undefined) return '';
    let t = this.texts.get(value);
    if (t !== undefined) return t;
    const clean = this.scrub(value);
    t = fieldText(this.key, clean);
    if (clean === value && this.texts.size < MAX_CACHED_FIELDS) this.texts.set(value, t);
    return t;
  }
}

/**
 * `String(ms)` for a latency in whole microseconds (`Math.round(s * 1e6) / 1e3`),
 * built from integers: the same text (the shortest round-trip form of a
 * value with at most three decimals is those decimals, trailing zeros cut),
 * without converting a double to a string. Anything else goes to `String`.
 */
export function millisText(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!(us >= 0 && us <= 0x3fffffff) || us / 1000 !== ms) return String(ms);
  const whole = Math.floor(us / 1000);
  const frac = us - whole * 1000;
  if (frac === 0) return '' + whole;
  if (frac % 100 === 0) return whole + '.' + frac / 100;
  if (frac % 10 === 0) return whole + (frac < 100 ? '.0' : '.') + frac / 10;
  return whole + (frac < 10 ? '.00' : frac < 100 ? '.0' : '.') + frac;
}

/** Attaches the request-line writer to `logger` (the root logger of createLogger). */
export function installRequestLine(
  logger: pino.Logger,
  scrub: (s: string) => string,
  enabled: boolean,
): void {
  const root = logger as RootLogger;
  const messages = new Map<string, string>();
  const routes = new FieldCache('route', scrub);
  const methods = new FieldCache('method', scrub);
  // Fixed when pino builds the logger: its destination and hooks.
  const stream = root[S.streamSym];
  const usable =
    enabled && stream[S.needsMetadataGsym] !== true && root[S.hooksSym].streamWrite === undefined;
  // Set once by pino on the root logger: read here, not per line.
  const lsCache = root[S.lsCacheSym];
  const time = root[S.timeSym];
  const end = root[S.endSym];
  const values = root.levels.values;
  const INFO = values['info'];
  const WARN = values['warn'];
  const ERROR = values['error'];

  const write: RequestLineWriter = (level, status, latencyMs, msg) => {
    // fatal: pino flushes synchronously after it; silent: a no-op method.
    if (!usable || level === 'fatal' || level === 'silent') return false;
    // The levels the middleware uses by name (one keyed load over several names is slower).
    const num =
      level === 'info' ? INFO : level === 'warn' ? WARN : level === 'error' ? ERROR : values[level];
    if (num === undefined) return false;
    if (num < root.levelVal) return true; // disabled: nothing to write, as with pino
    // Bindings can be set on the root at any time (setBindings).
    if (root[BOUND_KEYS] !== undefined || root[BOUND_EXTRA] !== undefined) return false;
    if (!Number.isFinite(latencyMs)) return false;
    let props = ',"status":' + status + ',"latency_ms":' + millisText(latencyMs);

    // Everything that sends the line to pino is checked before anything is
    // scrubbed, so that a redaction is never counted twice.
    // One store read for the request context and, when shared, the trace context.
    const frame = activeFrame();
    const c = frame?.t;
    let requestId: string | undefined;
    let userId: string | undefined;
    let route: string | undefined;
    let method: string | undefined;
    if (c !== undefined) {
      if (
        c.queue !== undefined ||
        c.job !== undefined ||
        c.jobId !== undefined ||
        c.attempt !== undefined ||
        c.eventId !== undefined
      ) {
        return false;
      }
      // By name (keyed loads over field names would go megamorphic).
      requestId = c.requestId;
      userId = c.userId;
      route = c.route;
      method = c.method;
      if (!stringOrUnset(requestId) || !stringOrUnset(userId)) return false;
      if (!stringOrUnset(route) || !stringOrUnset(method)) return false;
    }
    let ids = '';
    const active = sharesTraceContext() ? frame?.otel : context.active();
    const span = active === undefined ? undefined : trace.getSpan(active);
    if (span !== undefined) {
      const sc = span.spanContext();
      if (sc.traceId !== INVALID_TRACEID && sc.spanId !== INVALID_SPANID) {
        if (!isLowerHex(sc.traceId, 32) || !isLowerHex(sc.spanId, 16)) return false;
        ids = ',"traceId":"' + sc.traceId + '","spanId":"' + sc.spanId + '"';
      }
    }
    // In addContextFields' order, then the trace ids.
    props +=
      stringField('requestId', requestId, scrub) +
      stringField('userId', userId, scrub) +
      routes.text(route) +
      methods.text(method) +
      ids;
    let m = messages.get(msg);
    if (m === undefined) {
      m = ',"msg":' + jsonString(scrub(msg));
      if (messages.size < 16) messages.set(msg, m);
    }
    stream.write(lsCache[num]! + time() + root[S.chindingsSym] + props + m + end);
    return true;
  };
  root[REQUEST_LINE] = write;
}

/** The request-line writer of a logger made by createLogger, if it is one. */
export function requestLineOf(logger: pino.Logger): RequestLineWriter | undefined {
  // Own property only: a child logger (other bindings) takes the generic path.
  return Object.prototype.hasOwnProperty.call(logger, REQUEST_LINE)
    ? (logger as RootLogger)[REQUEST_LINE]
    : undefined;
}
