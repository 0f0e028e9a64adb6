import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, Span } from '@opentelemetry/api';
import type { TelemetryContext } from '../context.js';
import type { BoundCounter, BoundHistogram } from '../metrics/instruments.js';

/** The request counter and duration histogram of one route, method and status. */
export interface HttpRecorders {
  readonly count: BoundCounter;
  readonly duration: BoundHistogram;
}

/** What is decided once per route template (and cached), not per request. */
export interface RouteDecision {
  /** The `route` label and log field (`/users/:id`, or `unmatched`). */
  readonly template: string;
  /** Span name, or `undefined` for unmatched requests (named by method then). */
  readonly spanName: string | undefined;
  readonly logs: boolean;
  readonly metrics: boolean;
  readonly traces: boolean;
  /** stacklight's own endpoints: never traced, never refused while draining. */
  readonly internal: boolean;
  /**
   * The route's metric series, bound once per method label and status (no
   * label key built per request). Only combinations with a series of their
   * own are kept, so this holds at most as many entries as the series cap.
   */
  readonly recorders: Map<string, Map<number, HttpRecorders>>;
}

/** The context object of one request: what `getContext()` returns inside it. */
export class HttpRequestContext implements TelemetryContext {
  requestId: string;
  method: string;
  route: string | undefined;
  userId: string | undefined = undefined;

  constructor(requestId: string, method: string, route: string | undefined) {
    this.requestId = requestId;
    this.method = method;
    this.route = route;
  }
}

/**
 * Internal per-request state. One object per request with every field set in
 * the constructor (one hidden class); the adapters and response listeners
 * find it under {@link RECORD} on the raw response.
 */
export class RequestRecord {
  /** `performance.now()` at the start. */
  readonly start: number;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly ctx: TelemetryContext;
  /** Route decision; `undefined` until the route is known (Express: at the end). */
  decision: RouteDecision | undefined;
  span: Span | undefined = undefined;
  /** The OpenTelemetry context of the request (server span active), when tracing. */
  otel: Context | undefined = undefined;
  /** The framework's request object, passed to the `userId` callback. */
  userReq: unknown;
  error: unknown = undefined;
  hasError = false;
  done = false;
  /** The span was started with its final name (route known at the start: Fastify). */
  namedAtStart: boolean;
  /** Final status (set when finished). */
  status = 0;
  seconds = 0;
  aborted = false;
  // Intrusive list of in-flight requests (drain): O(1), no allocation.
  prev: RequestRecord | undefined = undefined;
  next: RequestRecord | undefined = undefined;

  constructor(
    start: number,
    req: IncomingMessage,
    res: ServerResponse,
    ctx: TelemetryContext,
    decision: RouteDecision | undefined,
  ) {
    this.start = start;
    this.req = req;
    this.res = res;
    this.ctx = ctx;
    this.decision = decision;
    this.namedAtStart = decision !== undefined;
    this.userReq = req;
  }
}

/** Key of the record on the raw response (and of the lifecycle that owns it). */
export const RECORD: unique symbol = Symbol('stacklight.http.record');

/** A raw response that may carry a record. */
export type TaggedResponse = ServerResponse & { [RECORD]?: RequestRecord };

/** Remembers the error a handler threw or passed on (logged once, on the request line). */
export function noteError(rec: RequestRecord, error: unknown): void {
  if (rec.done) return;
  rec.error = error;
  rec.hasError = true;
}

/** The record of a raw response, if the middleware started one. */
export function recordOf(res: unknown): RequestRecord | undefined {
  return res !== null && typeof res === 'object' ? (res as TaggedResponse)[RECORD] : undefined;
}
