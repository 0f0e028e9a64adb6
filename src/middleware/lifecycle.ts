import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import {
  getContext,
  runWithContext,
  runWithContexts,
  sharesTraceContext,
  type TelemetryContext,
} from '../context.js';
import type { Telemetry } from '../types.js';
import { requestLineOf, type RequestLineWriter } from '../logging/request-line.js';
import { httpServerSpanName } from '../tracing/span-names.js';
import {
  ABORTED_STATUS,
  codeLabel,
  methodLabel,
  OTHER_METHOD,
  statusOfError,
  UNMATCHED_ROUTE,
  validStatus,
} from './conventions.js';
import type { ResolvedHttpOptions } from './options.js';
import { Readiness } from './readiness.js';
import { isSyntheticBaggage } from './synthetic.js';
import {
  HttpRequestContext,
  noteError,
  RequestRecord,
  TAGGED_RECORDS,
  type HttpRecorders,
  type RecordKeeping,
  type RouteDecision,
} from './record.js';
import { createRequestIdGenerator, isValidRequestId } from './request-id.js';
import {
  borrowServerSpan,
  endServerSpan,
  parentContext,
  startServerSpan,
  type IncomingMode,
} from './server-span.js';

/** What an adapter plugs into the lifecycle. */
export interface LifecycleAdapter {
  /** Name used in warnings and the shutdown step (`fastify`, `express`). */
  readonly name: string;
  /**
   * The route template of a request whose route was not known at the start
   * (Express), computed at the end; `undefined` when it matched no route.
   */
  lateRoute?(rec: RequestRecord): string | undefined;
  /** Where records are kept (default: on the response, {@link TAGGED_RECORDS}). */
  records?: RecordKeeping;
  /** Builds the context object (Express uses one with a lazy `route`). */
  createContext?(
    req: IncomingMessage,
    requestId: string,
    method: string,
    route: string | undefined,
  ): TelemetryContext;
}

type LogMethod = (obj: object, msg: string) => void;

/** Decisions cached per template; past this many, decisions are computed per request. */
const MAX_CACHED_DECISIONS = 1000;

/** Body of the 503 sent to new requests once draining refuses them. */
export const DRAINING_BODY = '{"error":"Service Unavailable","message":"shutting down"}';

/**
 * The framework-agnostic request lifecycle. Per request: start (timer,
 * request id, context, server span), then exactly once on the first of
 * `finish` (response sent), `close` (connection gone before that) or the end
 * of the shutdown drain: metrics, one log line, span end.
 *
 * Everything that can be decided once is decided here, at construction or
 * once per route template: log level per status class, label strings, span
 * names, exclusions. The response listeners are created once per lifecycle,
 * not per request; the metric label object is reused (the instruments read it
 * synchronously and keep only the values).
 */
export class HttpLifecycle {
  readonly readiness: Readiness;
  readonly options: ResolvedHttpOptions;
  private readonly telemetry: Telemetry;
  private readonly logger: Logger;
  private readonly requestLine: RequestLineWriter | undefined;
  private readonly adapter: LifecycleAdapter;
  /** Where this lifecycle keeps its requests' records (see {@link LifecycleAdapter.records}). */
  readonly records: RecordKeeping;
  private readonly tracing: boolean;
  /** `tracing.incoming`: continue, restart or ignore the caller's trace context. */
  private readonly incoming: IncomingMode;
  private readonly nextId = createRequestIdGenerator();
  private readonly decisions = new Map<string, RouteDecision>();
  private readonly unmatched: RouteDecision;
  private readonly labels = { route: '', method: '', code: '' };
  private readonly warned = new Set<string>();
  private readonly onFinish: (this: ServerResponse) => void;
  private readonly onClose: (this: ServerResponse) => void;
  private head: RequestRecord | undefined = undefined;
  private inflight = 0;
  private drained: (() => void) | undefined = undefined;
  /** Sentry capture, then the `onError` option when given. */
  private readonly onError: ResolvedHttpOptions['onError'];
  /**
   * Another instrumentation may have opened the request's SERVER span (an
   * external provider, or instrumentations given to stacklight).
   */
  private readonly joinsServerSpans: boolean;
  /** True once the drain grace is over: new requests get 503. */
  refusing = false;

  constructor(telemetry: Telemetry, options: ResolvedHttpOptions, adapter: LifecycleAdapter) {
    this.telemetry = telemetry;
    this.logger = telemetry.logger;
    this.requestLine = requestLineOf(telemetry.logger);
    this.options = options;
    this.adapter = adapter;
    this.records = adapter.records ?? TAGGED_RECORDS;
    this.tracing = telemetry.config.tracing.enabled;
    this.incoming = telemetry.config.tracing.incoming ?? 'continue';
    this.joinsServerSpans =
      telemetry.config.tracing.provider === 'external' ||
      telemetry.config.tracing.instrumentations.length > 0;
    // Sentry capture always runs (a no-op without Sentry); the `onError`
    // hook is called as well, never instead of it.
    const hook = options.onError;
    this.onError =
      hook === undefined
        ? (error: unknown) => void telemetry.captureException(error)
        : (error, ctx) => {
            void telemetry.captureException(error);
            hook(error, ctx);
          };
    this.unmatched = this.decide(UNMATCHED_ROUTE);
    this.readiness = new Readiness(options.checks, {
      failed: (name, status, error, timeoutMs) =>
        this.logger.warn(
          status === 'timeout' ? {} : { err: error },
          status === 'timeout'
            ? `readiness check "${name}" timed out after ${timeoutMs} ms`
            : `readiness check "${name}" failed`,
        ),
      recovered: (name) => this.logger.info({}, `readiness check "${name}" recovered`),
    });
    const finish = (rec: RequestRecord, aborted: boolean): void => this.finish(rec, aborted);
    const records = this.records;
    // Created once per lifecycle; Node calls them with the response as `this`.
    this.onFinish = function stacklightResponseFinish(this: ServerResponse): void {
      const rec = records.get(this);
      if (rec !== undefined && !rec.done) finish(rec, false);
    };
    this.onClose = function stacklightResponseClose(this: ServerResponse): void {
      const rec = records.get(this);
      if (rec !== undefined && !rec.done) finish(rec, !this.writableFinished);
    };
  }

  /** The decision for requests that matched no route. */
  get unmatchedDecision(): RouteDecision {
    return this.unmatched;
  }

  /** Requests started and not finished yet. */
  get inFlight(): number {
    return this.inflight;
  }

  /**
   * The decision for a route template (cached). `internal` marks stacklight's
   * own endpoints: never traced.
   */
  decide(
    template: string,
    overrides?: { logs?: boolean; metrics?: boolean; traces?: boolean },
    internal = false,
  ): RouteDecision {
    if (overrides === undefined && !internal) {
      const cached = this.decisions.get(template);
      if (cached !== undefined) return cached;
    }
    const o = this.options;
    const d: RouteDecision = Object.freeze({
      template,
      spanName: template === UNMATCHED_ROUTE ? undefined : httpServerSpanName(undefined, template),
      logs: overrides?.logs !== false && !o.excludeFromLogs.has(template),
      metrics: overrides?.metrics !== false && !o.excludeFromMetrics.has(template),
      traces: !internal && overrides?.traces !== false && !o.excludeFromTraces.has(template),
      internal,
      recorders: new Map<string, Map<number, HttpRecorders>>(),
    });
    if (overrides === undefined && !internal && this.decisions.size < MAX_CACHED_DECISIONS)
      this.decisions.set(template, d);
    return d;
  }

  /**
   * Starts a request: timer, request id (echoed), context, server span (with
   * the incoming W3C parent), response listeners. `decision` is `undefined`
   * when the route is only known at the end (Express); `traced` says whether
   * to start a span. `echo: false` leaves the request-id header to the
   * adapter (Fastify sets it through the reply, see the plugin).
   */
  begin(
    req: IncomingMessage,
    res: ServerResponse,
    decision: RouteDecision | undefined,
    traced: boolean,
    echo = true,
  ): RequestRecord {
    const start = performance.now();
    const method = methodLabel(req.method);
    const o = this.options;
    // Read only when needed: on an Express request every property read is a
    // cache miss, and Node builds `headers` on first read.
    const incoming = o.trustRequestId ? req.headers[o.requestIdHeader] : undefined;
    const requestId = isValidRequestId(incoming) ? incoming : this.nextId();
    const route = decision?.template;
    const factory = this.adapter.createContext;
    const ctx =
      factory === undefined
        ? new HttpRequestContext(requestId, method, route)
        : factory(req, requestId, method, route);
    const rec = new RequestRecord(start, req, res, ctx, decision);
    if (echo) {
      try {
        res.setHeader(o.requestIdHeader, requestId);
      } catch {
        // Headers already sent by someone before us: nothing to echo.
      }
    }

    if (this.tracing) {
      try {
        const headers = req.headers;
        const borrowed = traced && this.joinsServerSpans ? borrowServerSpan(decision) : undefined;
        if (borrowed !== undefined) {
          rec.span = borrowed.span;
          rec.otel = borrowed.context;
          rec.spanBorrowed = true;
        } else if (traced) {
          const started = startServerSpan(
            this.telemetry.tracer,
            req,
            headers,
            method,
            decision,
            this.incoming,
          );
          rec.span = started.span;
          rec.otel = started.context;
        } else if (headers.traceparent !== undefined) {
          // No span of our own (route excluded from traces): keep the caller's
          // trace context so logs correlate and outgoing calls propagate it.
          rec.otel = parentContext(headers, this.incoming);
        }
      } catch (error) {
        this.internalError('http_span', 'starting the server span failed', error);
      }
    }

    this.records.set(res, rec);
    res.on('finish', this.onFinish);
    res.on('close', this.onClose);
    this.link(rec);
    return rec;
  }

  /**
   * Runs `next` (the framework's continuation) with the request's context and
   * trace context active; everything the framework runs from there inherits
   * them. No closure: `context.with` forwards the arguments.
   */
  enter(rec: RequestRecord, next: () => void): void {
    if (rec.otel === undefined) runWithContext(rec.ctx, next);
    else if (sharesTraceContext()) runWithContexts(rec.otel, rec.ctx, next);
    else context.with(rec.otel, runWithContext, undefined, rec.ctx, next);
  }

  /** Remembers the error a handler threw (logged once, on the request line). */
  recordError(rec: RequestRecord, error: unknown): void {
    noteError(rec, error);
  }

  /** Fills `userId` from the user callback, once it returns a usable value. */
  resolveUserId(rec: RequestRecord): void {
    const fn = this.options.userId;
    if (fn === undefined || rec.ctx.userId !== undefined) return;
    let value: unknown;
    try {
      value = fn(rec.userReq);
    } catch (error) {
      this.internalError(
        'http_user_id',
        'the userId callback threw; requests are logged without userId',
        error,
      );
      return;
    }
    if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
    if (typeof value !== 'string' || value === '') {
      if (
        value !== null &&
        value !== undefined &&
        typeof (value as PromiseLike<unknown>).then === 'function'
      ) {
        this.warnOnce(
          'user-id-async',
          'the userId callback returned a promise; it must return the id synchronously',
        );
      }
      return;
    }
    if (value.includes('@')) {
      this.warnOnce(
        'user-id-email',
        'the userId callback returned an e-mail address; it is not used (return an opaque id)',
      );
      return;
    }
    rec.ctx.userId = value.length > 128 ? value.slice(0, 128) : value;
  }

  /**
   * Ends a request exactly once: computes status and duration, resolves a
   * late route, then records it in the request's own context (so the log
   * line and the histogram exemplar carry its trace ids, whatever context the
   * event that ended it ran in). Never throws.
   */
  finish(rec: RequestRecord, aborted: boolean): void {
    if (rec.done) return;
    rec.done = true;
    this.unlink(rec);
    this.records.release(rec.res);
    try {
      rec.seconds = (performance.now() - rec.start) / 1000;
      if (!aborted) {
        rec.status = validStatus(rec.res.statusCode);
      } else {
        // The response never completed. A handler error that asked for a 5xx
        // (a stream failing mid-response) is the server's failure; anything
        // else (client gone, connection destroyed, shutdown) is an abort.
        const s = rec.hasError ? statusOfError(rec.error) : 0;
        rec.status = s >= 500 ? s : ABORTED_STATUS;
        rec.aborted = rec.status === ABORTED_STATUS;
      }
      if (rec.decision === undefined) {
        let template: string | undefined;
        try {
          template = this.adapter.lateRoute?.(rec);
        } catch (error) {
          this.internalError('http_route', 'resolving the route template failed', error);
        }
        rec.decision = template === undefined ? this.unmatched : this.decide(template);
      }
      rec.ctx.route = rec.decision.template;
      if (this.options.userId !== undefined && rec.ctx.userId === undefined)
        this.resolveUserId(rec);

      const span = rec.span;
      if (
        getContext() === rec.ctx &&
        (rec.otel === undefined ||
          context.active() === rec.otel ||
          (span !== undefined && trace.getSpan(context.active()) === span))
      ) {
        this.record(rec);
      } else {
        // The ending event ran outside the request (client abort, drain).
        const record = (): void => this.record(rec);
        if (sharesTraceContext()) runWithContexts(rec.otel ?? ROOT_CONTEXT, rec.ctx, record);
        else context.with(rec.otel ?? ROOT_CONTEXT, runWithContext, undefined, rec.ctx, record);
      }
    } catch (error) {
      this.internalError('http_middleware', 'recording a request failed', error);
    } finally {
      if (this.inflight === 0 && this.drained !== undefined) this.drained();
    }
  }

  /**
   * A request the server or framework answered before any hook of ours ran
   * (see rejected.ts): counted and logged as `route="unmatched"`, without a
   * span. `method` is unknown when the request line itself was unparsable.
   */
  recordRejected(method: string | undefined, status: number, reason: string): void {
    try {
      const d = this.unmatched;
      const m = method === undefined ? OTHER_METHOD : methodLabel(method);
      const code = validStatus(status);
      if (d.metrics) {
        const labels = this.labels;
        labels.route = d.template;
        labels.method = m;
        labels.code = codeLabel(code);
        this.telemetry.metrics.httpRequestsTotal.inc(labels);
        this.telemetry.metrics.httpRequestDurationSeconds.observe(labels, 0);
      }
      const level = this.options.levelByClass[(code / 100) | 0];
      if (d.logs && level !== undefined) {
        (this.logger[level] as LogMethod).call(
          this.logger,
          { route: d.template, method: m, status: code, latency_ms: 0 },
          `request rejected before routing: ${reason}`,
        );
      }
    } catch (error) {
      this.internalError('http_middleware', 'recording a rejected request failed', error);
    }
  }

  private record(rec: RequestRecord): void {
    const d = rec.decision!;
    const status = rec.status;
    const method = rec.ctx.method ?? OTHER_METHOD;
    if (d.metrics && isSyntheticBaggage(rec.req.headers.baggage)) {
      // Probe traffic: counted apart so that SLIs measure users only.
      const labels = { route: d.template, method, code: codeLabel(status) };
      this.telemetry.metrics.httpSyntheticRequestsTotal.inc(labels);
    } else if (d.metrics) {
      const r = d.recorders.get(method)?.get(status) ?? this.bindRecorders(d, method, status);
      if (r !== undefined) {
        r.count.inc();
        r.duration.observe(rec.seconds);
      } else {
        // Past the series cap: through the labels, which counts the overflow.
        const labels = this.labels;
        labels.route = d.template;
        labels.method = method;
        labels.code = codeLabel(status);
        this.telemetry.metrics.httpRequestsTotal.inc(labels);
        this.telemetry.metrics.httpRequestDurationSeconds.observe(labels, rec.seconds);
      }
    }
    const withError = rec.hasError && status >= 400;
    if (d.logs) {
      const level = this.options.levelByClass[(status / 100) | 0];
      if (level !== undefined) {
        const latency_ms = Math.round(rec.seconds * 1e6) / 1e3;
        const msg = rec.aborted
          ? 'request aborted'
          : withError
            ? 'request failed'
            : 'request completed';
        // The line assembled directly when nothing needs pino's generic path
        // (see logging/request-line.ts); with an error, always through pino.
        const line = this.requestLine;
        if (withError || line === undefined || !line(level, status, latency_ms, msg)) {
          const fields = withError
            ? { status, latency_ms, err: rec.error }
            : { status, latency_ms };
          (this.logger[level] as LogMethod).call(this.logger, fields, msg);
        }
      }
    }
    const span = rec.span;
    if (span !== undefined) {
      try {
        endServerSpan(rec, span, d, status);
      } catch (error) {
        this.internalError('http_span', 'ending the server span failed', error);
      }
    }
    if (status >= 500 && rec.hasError && this.onError !== undefined) {
      try {
        this.onError(rec.error, rec.ctx);
      } catch (error) {
        this.internalError('http_on_error', 'the onError hook threw', error);
      }
    }
  }

  /**
   * Binds (and keeps) the series of a route, method and status, when both
   * instruments have a series of their own for them; `undefined` past the cap.
   */
  private bindRecorders(
    d: RouteDecision,
    method: string,
    status: number,
  ): HttpRecorders | undefined {
    const m = this.telemetry.metrics;
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

  // ------------------------------------------------------------ drain

  /**
   * The shutdown `drain` step: readiness turns 503 at once; new requests are
   * still served for `drainGraceMs`, then refused with 503; in-flight requests
   * are awaited; whatever has not finished when the budget runs out is
   * recorded as aborted (499), so every request is counted exactly once
   * before the flush phase writes the last lines and spans.
   */
  async drain(deadline: number): Promise<void> {
    this.readiness.draining = true;
    const now = Date.now();
    const budget = Math.max(0, deadline - now);
    // Keep a share of the shutdown budget for the flush phase.
    const reserve = Math.min(1000, Math.floor(budget / 4));
    const usable = Math.max(0, budget - reserve);
    const grace = Math.min(this.options.drainGraceMs, usable);
    if (grace > 0) await sleep(grace);
    this.refusing = true;
    const left = now + usable - Date.now();
    if (this.inflight > 0 && left > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        timer.unref();
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.drained = undefined;
    }
    for (let rec = this.head; rec !== undefined; rec = this.head) this.finish(rec, true);
  }

  private link(rec: RequestRecord): void {
    rec.next = this.head;
    if (this.head !== undefined) this.head.prev = rec;
    this.head = rec;
    this.inflight++;
  }

  private unlink(rec: RequestRecord): void {
    if (rec.prev !== undefined) rec.prev.next = rec.next;
    else if (this.head === rec) this.head = rec.next;
    if (rec.next !== undefined) rec.next.prev = rec.prev;
    rec.prev = rec.next = undefined;
    this.inflight--;
  }

  // ------------------------------------------------------------ problems

  /** Counts an absorbed failure and warns once per component. */
  internalError(component: string, message: string, error?: unknown): void {
    try {
      this.telemetry.selfMetrics.internalErrorsTotal.inc({ component });
    } catch {
      // Counting must not fail the request either.
    }
    this.warnOnce(component, message, error);
  }

  /** Writes a warning once per key (through the service logger). */
  warnOnce(key: string, message: string, error?: unknown): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    try {
      this.logger.warn(
        error === undefined ? {} : { err: error },
        `stacklight/${this.adapter.name}: ${message}`,
      );
    } catch {
      // A broken logger costs the warning only.
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
  });
}
