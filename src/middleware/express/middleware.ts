import { EventEmitter } from 'node:events';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { TelemetryContext } from '../../context.js';
import { ConfigError } from '../../errors.js';
import type { Telemetry } from '../../types.js';
import { statusOfError } from '../conventions.js';
import { pathOf, serveEndpoint, writeDraining, writeJson } from '../endpoints.js';
import { reportGuard } from '../../internals/guard.js';
import { expressGuard } from '../../internals/express.js';
import { DRAINING_BODY, HttpLifecycle } from '../lifecycle.js';
import { watchClientErrors } from '../rejected.js';
import { checkTelemetry, resolveHttpOptions } from '../options.js';
import {
  KEYED_RECORDS,
  noteError,
  recordOf,
  type RequestRecord,
  type RouteDecision,
} from '../record.js';
import type { HttpTelemetryOptions } from '../types.js';
import {
  expressRouteTemplate,
  type ExpressAppLike,
  type ExpressRequestLike,
} from './route-template.js';

/** The Express `next` function, as far as stacklight uses it. */
export type NextFunctionLike = (err?: unknown) => void;

/**
 * An Express request handler, typed structurally so that it fits Express 4
 * and 5 (`app.use(...)` accepts it) without importing Express's types.
 */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunctionLike,
) => void;

/** An Express error handler (four arguments), typed structurally. */
export type ExpressErrorMiddleware = (
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunctionLike,
) => void;

/** Options of {@link stacklightErrorHandler}. */
export interface StacklightErrorHandlerOptions {
  /**
   * Answer the error: status from `err.status`/`err.statusCode` (4xx/5xx,
   * else 500), JSON body `{ error, message?, requestId }` (`message` only
   * when `err.expose` is true, as http-errors sets for 4xx). When false, the
   * error is recorded and passed on with `next(err)` to your own handler;
   * Express's final handler would then print it to stderr a second time.
   * @default true
   */
  respond?: boolean;
}

/**
 * The context object of an Express request. The route is only known once
 * the router has matched, so `route` is a getter over `req.route` (a cached
 * template per route: one WeakMap lookup), and log lines written inside a
 * handler already carry the template.
 */
class ExpressRequestContext implements TelemetryContext {
  requestId: string;
  method: string;
  userId: string | undefined = undefined;
  #route: string | undefined = undefined;
  readonly #req: IncomingMessage & ExpressRequestLike & { app?: ExpressAppLike };

  constructor(req: IncomingMessage, requestId: string, method: string) {
    this.requestId = requestId;
    this.method = method;
    this.#req = req as IncomingMessage & ExpressRequestLike & { app?: ExpressAppLike };
  }

  /**
   * The route template; a value you set (for a request answered by middleware
   * before any route, e.g. an auth rejection) wins over the router's.
   */
  get route(): string | undefined {
    if (this.#route !== undefined) return this.#route;
    try {
      return expressRouteTemplate(this.#req);
    } catch {
      return undefined;
    }
  }

  set route(value: string | undefined) {
    this.#route = value;
  }
}

function createContext(req: IncomingMessage, requestId: string, method: string): TelemetryContext {
  return new ExpressRequestContext(req, requestId, method);
}

function lateRoute(rec: RequestRecord): string | undefined {
  return rec.ctx.route;
}

/** True for a template that is a literal path (can be compared with the request path). */
function isLiteral(template: string): boolean {
  return template.startsWith('/') && !/[:*?(){}|[\]+]/.test(template);
}

/**
 * The stacklight Express middleware (Express 4 and 5): request metrics, one
 * log line per request, a server span continuing the caller's W3C trace, the
 * request context, and the opt-in `/metrics`, `/healthz` and `/readyz`
 * endpoints. Register it first, before any route or body parser, and
 * {@link stacklightErrorHandler} after your routes.
 *
 * The route template is the full template across routers and sub-apps
 * (`/api/orgs/:orgId/items/:id`), resolved when the response finishes.
 * Requests that reach no route (404s, or answered by middleware such as
 * static files or an auth check) are recorded as `unmatched`; set
 * `getContext().route` in such middleware to name them.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { init } from 'stacklight';
 * import { stacklightErrorHandler, stacklightMiddleware } from 'stacklight/express';
 *
 * const telemetry = init({ service: 'core' });
 * const app = express();
 * app.use(stacklightMiddleware(telemetry, { metricsEndpoint: true, healthEndpoint: true }));
 * app.get('/users/:id', (req, res) => res.json(getUser(req.params.id)));
 * app.use(stacklightErrorHandler());
 * ```
 */
export function stacklightMiddleware<Req = IncomingMessage & Record<string, unknown>>(
  telemetry: Telemetry,
  options?: HttpTelemetryOptions<Req>,
): ExpressMiddleware {
  const t = checkTelemetry(telemetry);
  const opts = resolveHttpOptions(options as HttpTelemetryOptions<never>);
  const lifecycle = new HttpLifecycle(t, opts, {
    name: 'express',
    lateRoute,
    createContext,
    records: KEYED_RECORDS,
  });
  // Route templates read Express's router tree only on a tested Express.
  reportGuard(expressGuard(), lifecycle.errors.warn);
  const metricsHandler = t.metricsHandler;

  const endpoints = new Map<string, RouteDecision>();
  for (const path of [opts.metricsPath, opts.healthPath, opts.readinessPath]) {
    if (path !== undefined) endpoints.set(path, lifecycle.decide(path, undefined, true));
  }
  const untraced = new Set([...opts.excludeFromTraces].filter(isLiteral));
  const needPath = endpoints.size > 0 || untraced.size > 0;
  t.onShutdown('drain', 'http-express', (deadline) => lifecycle.drain(deadline));
  // The server is known from the first request on (Express creates it in
  // listen()): from then on, requests Node's parser rejects (431, 400) are
  // counted as route="unmatched".
  let serverSeen = false;

  return function stacklightExpressMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunctionLike,
  ): void {
    if (!serverSeen) {
      serverSeen = true;
      const server = (req.socket as { server?: unknown } | null)?.server;
      if (server instanceof EventEmitter) watchClientErrors(server as Server, lifecycle);
    }
    // Registered twice (an app and its sub-app), or mounted in a Fastify app
    // with the stacklight plugin: the first one records.
    if (recordOf(res) !== undefined) {
      next();
      return;
    }
    let traced = true;
    if (needPath) {
      const path = pathOf(req.url);
      const endpoint = endpoints.get(path);
      if (endpoint !== undefined && (req.method === 'GET' || req.method === 'HEAD')) {
        lifecycle.begin(req, res, endpoint, false);
        serveEndpoint(lifecycle, metricsHandler, path, req, res);
        return;
      }
      traced = !untraced.has(path);
    }
    const rec = lifecycle.begin(req, res, undefined, traced);
    if (lifecycle.refusing) {
      writeDraining(res, DRAINING_BODY);
      return;
    }
    lifecycle.enter(rec, next);
  };
}

/**
 * The stacklight Express error handler. Register it after your routes (and
 * before your own error handler when `respond: false`). It records the error
 * on the request, so the request counts as 5xx (or the error's 4xx status),
 * its single log line carries `error.*`, its span gets an ERROR status and the
 * exception, and `onError` (Sentry) sees it; then it answers (see
 * {@link StacklightErrorHandlerOptions.respond}). When the response had
 * already started, the connection is closed, as Express does.
 *
 * @example
 * app.use(stacklightErrorHandler());
 */
export function stacklightErrorHandler(
  options: StacklightErrorHandlerOptions = {},
): ExpressErrorMiddleware {
  if (options === null || typeof options !== 'object')
    throw new ConfigError('options', options, 'an object { respond?: boolean }');
  const respond = options.respond ?? true;
  if (typeof respond !== 'boolean') throw new ConfigError('respond', respond, 'true or false');

  return function stacklightExpressErrorHandler(
    err: unknown,
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunctionLike,
  ): void {
    const rec = recordOf(res);
    if (rec !== undefined) noteError(rec, err);
    if (!respond) {
      next(err);
      return;
    }
    if (res.headersSent) {
      // Too late for a status: end the connection so the client sees a failure.
      res.destroy();
      return;
    }
    const status = statusOfError(err);
    const body: Record<string, unknown> = { error: STATUS_CODES[status] ?? 'Error' };
    try {
      const e = err as { expose?: unknown; message?: unknown } | null;
      if (status < 500 && e?.expose === true && typeof e.message === 'string')
        body['message'] = e.message;
    } catch {
      // A hostile error object costs the message only.
    }
    if (rec !== undefined) body['requestId'] = rec.ctx.requestId;
    writeJson(res, status, JSON.stringify(body), req.method === 'HEAD');
  };
}
