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
import { partsOf } from '../handle-parts.js';
import type { Telemetry } from '../types.js';
import type { InternalErrors } from '../internal-errors.js';
import { requestLineOf, type RequestLineWriter } from '../logging/request-line.js';
import { httpServerSpanName } from '../tracing/span-names.js';
import { isThenable } from '../util/async.js';
import {
  ABORTED_STATUS,
  methodLabel,
  statusOfError,
  UNMATCHED_ROUTE,
  validStatus,
} from './conventions.js';
import { drainRequests, type Drainable } from './drain.js';
import type { ResolvedHttpOptions } from './options.js';
import { Readiness } from './readiness.js';
import {
  HttpRequestContext,
  noteError,
  RequestRecord,
  TAGGED_RECORDS,
  type HttpRecorders,
  type RecordKeeping,
  type RouteDecision,
} from './record.js';
import { recordRejected, recordRequest, type RecordingContext } from './recording.js';
import { createRequestIdGenerator, isValidRequestId } from './request-id.js';
import {
  borrowServerSpan,
  parentContext,
  startServerSpan,
  type IncomingMode,
} from './server-span.js';

// The adapters' 503 body while draining, from where they import the lifecycle.
export { DRAINING_BODY } from './drain.js';

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

/** Decisions cached per template; past this many, decisions are computed per request. */
const MAX_CACHED_DECISIONS = 1000;

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
export class HttpLifecycle implements RecordingContext, Drainable {
  readonly readiness: Readiness;
  readonly options: ResolvedHttpOptions;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
  readonly requestLine: RequestLineWriter | undefined;
  /** Counts and warns (`stacklight/<adapter>: …`) what the lifecycle absorbs. */
  readonly errors: InternalErrors;
  private readonly adapter: LifecycleAdapter;
  /** Where this lifecycle keeps its requests' records (see {@link LifecycleAdapter.records}). */
  readonly records: RecordKeeping;
  private readonly tracing: boolean;
  /** `tracing.incoming`: continue, restart or ignore the caller's trace context. */
  private readonly incoming: IncomingMode;
  private readonly nextId = createRequestIdGenerator();
  private readonly decisions = new Map<string, RouteDecision>();
  private readonly unmatched: RouteDecision;
  readonly labels = { route: '', method: '', code: '' };
  private readonly onFinish: (this: ServerResponse) => void;
  private readonly onClose: (this: ServerResponse) => void;
  private head: RequestRecord | undefined = undefined;
  private inflight = 0;
  drained: (() => void) | undefined = undefined;
  /** Sentry capture, then the `onError` option when given. */
  readonly onError: ResolvedHttpOptions['onError'];
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
    this.errors = partsOf(telemetry).errors.scoped(adapter.name);
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

  /** The newest request still in flight. */
  get newestInFlight(): RequestRecord | undefined {
    return this.head;
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
        this.errors.fault('http_span', 'http_span', 'starting the server span failed', error);
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
      this.errors.fault(
        'http_user_id',
        'http_user_id',
        'the userId callback threw; requests are logged without userId',
        error,
      );
      return;
    }
    if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
    if (typeof value !== 'string' || value === '') {
      if (isThenable(value)) {
        this.errors.warn(
          'user-id-async',
          'the userId callback returned a promise; it must return the id synchronously',
        );
      }
      return;
    }
    if (value.includes('@')) {
      this.errors.warn(
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
          this.errors.fault(
            'http_route',
            'http_route',
            'resolving the route template failed',
            error,
          );
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
        recordRequest(this, rec);
      } else {
        // The ending event ran outside the request (client abort, drain).
        const record = (): void => recordRequest(this, rec);
        if (sharesTraceContext()) runWithContexts(rec.otel ?? ROOT_CONTEXT, rec.ctx, record);
        else context.with(rec.otel ?? ROOT_CONTEXT, runWithContext, undefined, rec.ctx, record);
      }
    } catch (error) {
      this.errors.fault('http_middleware', 'http_middleware', 'recording a request failed', error);
    } finally {
      if (this.inflight === 0 && this.drained !== undefined) this.drained();
    }
  }

  /**
   * A request the server or framework answered before any hook of ours ran
   * (see rejected.ts), recorded as `route="unmatched"` (see recording.ts).
   */
  recordRejected(method: string | undefined, status: number, reason: string): void {
    recordRejected(this, method, status, reason);
  }

  /** The shutdown `drain` step (see drain.ts). */
  drain(deadline: number): Promise<void> {
    return drainRequests(this, deadline);
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
}
