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
  /** `span` is another instrumentation's SERVER span: enriched, never ended by stacklight. */
  spanBorrowed = false;
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

/** Where the lifecycle keeps the record of a response, and finds it again. */
export interface RecordKeeping {
  get(res: object): RequestRecord | undefined;
  set(res: object, rec: RequestRecord): void;
  /** The request is finished: the record need not be found again. */
  release(res: object): void;
}

/**
 * On the response itself, under {@link RECORD}: a field load on a response
 * whose hidden class is shared by every response (Node's, as Fastify leaves
 * it).
 */
export const TAGGED_RECORDS: RecordKeeping = {
  get: (res) => (res as TaggedResponse)[RECORD],
  set: (res, rec) => {
    (res as TaggedResponse)[RECORD] = rec;
  },
  // Goes with the response (a store here would be one more write per request).
  release: () => undefined,
};

const keyed = new WeakMap<object, RequestRecord>();

/**
 * Beside the response, in a WeakMap. For Express on Node 20 and 22: V8 11.3
 * and 12.4 give an object a hidden class of its own for any property added
 * after `Object.setPrototypeOf`, which Express calls on every `req` and `res`
 * (Node 24's V8 shares them). A property added to such a response builds a
 * new hidden class and copies its descriptors on every request, and a missing
 * one is looked up through all six prototypes at a cache miss. A WeakMap
 * entry costs neither: ~25 000 fewer instructions per request with Express 5
 * (callgrind, metrics only; see bench/NOTES.md).
 */
export const KEYED_RECORDS: RecordKeeping = {
  get: (res) => keyed.get(res),
  set: (res, rec) => {
    keyed.set(res, rec);
  },
  // At once, not when the response is collected: an entry whose key is alive
  // at a scavenge keeps its record alive, and V8 then promotes the record and
  // all it holds (measured: +3.5 KB promoted and +11 µs of scavenges per request
  // without this delete).
  release: (res) => {
    keyed.delete(res);
  },
};

/**
 * The record of a raw response, if any middleware started one, kept either
 * way: an Express app mounted inside Fastify sees responses the Fastify
 * plugin tagged. The tag is an own property: checked as one, so that a
 * response without it is not looked up through its prototypes.
 */
export function recordOf(res: unknown): RequestRecord | undefined {
  if (res === null || typeof res !== 'object') return undefined;
  return (
    keyed.get(res) ??
    (Object.prototype.hasOwnProperty.call(res, RECORD)
      ? (res as TaggedResponse)[RECORD]
      : undefined)
  );
}
