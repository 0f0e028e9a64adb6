/**
 * Recording a finished request: the two HTTP metrics, the request log line,
 * the server span's end and the `onError` hook. Runs once per request, in
 * the request's own context (see `HttpLifecycle.finish`).
 */
import type { Logger } from 'pino';
import type { Telemetry } from '../types.js';
import type { InternalErrors } from '../internal-errors.js';
import type { RequestLineWriter } from '../logging/request-line.js';
import { codeLabel, methodLabel, OTHER_METHOD, validStatus } from './conventions.js';
import type { ResolvedHttpOptions } from './options.js';
import type { HttpRecorders, RequestRecord, RouteDecision } from './record.js';
import { endServerSpan } from './server-span.js';
import { isSyntheticBaggage } from './synthetic.js';

/** What recording reads of its lifecycle, all fixed when the lifecycle is built. */
export interface RecordingContext {
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  readonly requestLine: RequestLineWriter | undefined;
  readonly options: ResolvedHttpOptions;
  /**
   * The metric label object, reused: the instruments read it synchronously
   * and keep only the values.
   */
  readonly labels: { route: string; method: string; code: string };
  /** Sentry capture, then the `onError` option when given. */
  readonly onError: ResolvedHttpOptions['onError'];
  readonly errors: InternalErrors;
  /** The decision for requests that matched no route. */
  readonly unmatchedDecision: RouteDecision;
}

type LogMethod = (obj: object, msg: string) => void;

/**
 * A request the server or framework answered before any hook of ours ran
 * (see rejected.ts): counted and logged as `route="unmatched"`, without a
 * span. `method` is unknown when the request line itself was unparsable.
 */
export function recordRejected(
  lc: RecordingContext,
  method: string | undefined,
  status: number,
  reason: string,
): void {
  try {
    const d = lc.unmatchedDecision;
    const m = method === undefined ? OTHER_METHOD : methodLabel(method);
    const code = validStatus(status);
    if (d.metrics) {
      const labels = lc.labels;
      labels.route = d.template;
      labels.method = m;
      labels.code = codeLabel(code);
      lc.telemetry.metrics.httpRequestsTotal.inc(labels);
      lc.telemetry.metrics.httpRequestDurationSeconds.observe(labels, 0);
    }
    const level = lc.options.levelByClass[(code / 100) | 0];
    if (d.logs && level !== undefined) {
      (lc.logger[level] as LogMethod).call(
        lc.logger,
        { route: d.template, method: m, status: code, latency_ms: 0 },
        `request rejected before routing: ${reason}`,
      );
    }
  } catch (error) {
    lc.errors.fault(
      'http_middleware',
      'http_middleware',
      'recording a rejected request failed',
      error,
    );
  }
}

export function recordRequest(lc: RecordingContext, rec: RequestRecord): void {
  const d = rec.decision!;
  const status = rec.status;
  const method = rec.ctx.method ?? OTHER_METHOD;
  if (d.metrics && isSyntheticBaggage(rec.req.headers.baggage)) {
    // Probe traffic: counted apart so that SLIs measure users only.
    const labels = { route: d.template, method, code: codeLabel(status) };
    lc.telemetry.metrics.httpSyntheticRequestsTotal.inc(labels);
  } else if (d.metrics) {
    const r = d.recorders.get(method)?.get(status) ?? bindRecorders(lc, d, method, status);
    if (r !== undefined) {
      r.count.inc();
      r.duration.observe(rec.seconds);
    } else {
      // Past the series cap: through the labels, which counts the overflow.
      const labels = lc.labels;
      labels.route = d.template;
      labels.method = method;
      labels.code = codeLabel(status);
      lc.telemetry.metrics.httpRequestsTotal.inc(labels);
      lc.telemetry.metrics.httpRequestDurationSeconds.observe(labels, rec.seconds);
    }
  }
  const withError = rec.hasError && status >= 400;
  if (d.logs) {
    const level = lc.options.levelByClass[(status / 100) | 0];
    if (level !== undefined) {
      const latency_ms = Math.round(rec.seconds * 1e6) / 1e3;
      const msg = rec.aborted
        ? 'request aborted'
        : withError
          ? 'request failed'
          : 'request completed';
      // The line assembled directly when nothing needs pino's generic path
      // (see logging/request-line.ts); with an error, always through pino.
      const line = lc.requestLine;
      if (withError || line === undefined || !line(level, status, latency_ms, msg)) {
        const fields = withError ? { status, latency_ms, err: rec.error } : { status, latency_ms };
        (lc.logger[level] as LogMethod).call(lc.logger, fields, msg);
      }
    }
  }
  const span = rec.span;
  if (span !== undefined) {
    try {
      endServerSpan(rec, span, d, status);
    } catch (error) {
      lc.errors.fault('http_span', 'http_span', 'ending the server span failed', error);
    }
  }
  if (status >= 500 && rec.hasError && lc.onError !== undefined) {
    try {
      lc.onError(rec.error, rec.ctx);
    } catch (error) {
      lc.errors.fault('http_on_error', 'http_on_error', 'the onError hook threw', error);
    }
  }
}

/**
 * Binds (and keeps) the series of a route, method and status, when both
 * instruments have a series of their own for them; `undefined` past the cap.
 */
function bindRecorders(
  lc: RecordingContext,
  d: RouteDecision,
  method: string,
  status: number,
): HttpRecorders | undefined {
  const m = lc.telemetry.metrics;
  const labels = { route: d.template, method, code: codeLabel(status) };
  const count = m.httpRequestsTotal.bind(labels);
  const duration = m.httpRequestDurationSeconds.bind(labels);
  if (count === undefined || duration === undefined) return undefined;
  let byStatus = d.recorders.get(method);
  if (byStatus === undefined) d.recorders.set(method, (byStatus = new Map()));
  const r: HttpRecorders = { count, duration };
  byStatus.set(status, r);
  return r;
}
