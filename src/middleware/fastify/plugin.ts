import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { ConfigError } from '../../errors.js';
import type { Telemetry } from '../../types.js';
import { reportGuard, type Guard } from '../../internals/guard.js';
import { fastifyGuard, logControllerSetting } from '../../internals/fastify.js';
import { HEALTH_BODY } from '../endpoints.js';
import { DRAINING_BODY, HttpLifecycle } from '../lifecycle.js';
import { watchClientErrors, watchUnhookedResponses } from '../rejected.js';
import { checkTelemetry, resolveHttpOptions, type ResolvedHttpOptions } from '../options.js';
import type { RouteDecision } from '../record.js';
import type { HttpTelemetryOptions, StacklightRouteConfig } from '../types.js';
// The `fastify` module augmentation (request.telemetry, config.stacklight) lives in src/fastify.ts.

/** Options of the Fastify plugin: the telemetry handle plus the HTTP options. */
export interface StacklightFastifyOptions extends HttpTelemetryOptions<FastifyRequest> {
  /** The handle returned by `init()`. */
  telemetry: Telemetry;
}

/** Route decision stored in the route's config by the `onRoute` hook; `null` = opted out. */
const DECISION: unique symbol = Symbol('stacklight.route');
/** Marks the plugin's own endpoints (never traced). */
const INTERNAL: unique symbol = Symbol('stacklight.internal');

type RouteConfig = Record<PropertyKey, unknown> & { stacklight?: unknown };

/**
 * Fastify's own request logging ("incoming request", "request completed",
 * and the default error handler's error line) would log every request and
 * every error a second time. Best effort: Fastify keeps the setting in its
 * (private) log controller, read only on a tested Fastify (`guard`), falling
 * back to the deprecated top-level option.
 */
export function fastifyLogsRequests(fastify: FastifyInstance, guard: Guard): boolean {
  const level = (fastify.log as { level?: unknown }).level;
  if (typeof level !== 'string' || level === 'silent') return false;
  let disabled: unknown = fastify.initialConfig.disableRequestLogging;
  if (guard.fast) disabled = logControllerSetting(fastify) ?? disabled;
  return disabled !== true && typeof disabled !== 'function';
}

function stacklightFastify(
  fastify: FastifyInstance,
  opts: StacklightFastifyOptions,
  done: (err?: Error) => void,
): void {
  let telemetry: Telemetry;
  let options: ResolvedHttpOptions;
  try {
    telemetry = checkTelemetry(opts?.telemetry);
    options = resolveHttpOptions(opts as HttpTelemetryOptions<never>, ['telemetry']);
  } catch (error) {
    // Avvio only sees errors passed to `done` (a throw would hang the boot).
    done(error as Error);
    return;
  }
  const lifecycle = new HttpLifecycle(telemetry, options, { name: 'fastify' });
  // Requests Node's parser (431, 400) or Fastify's router (bad URL encoding)
  // answer before any hook runs: counted as route="unmatched".
  watchClientErrors(fastify.server, lifecycle);
  watchUnhookedResponses(fastify.server, lifecycle);
  const idHeader = options.requestIdHeader;
  // Decisions for routes registered before the plugin, by route config object.
  const late = new WeakMap<object, RouteDecision | null>();

  function decisionFor(url: string, config: RouteConfig | undefined): RouteDecision | null {
    const c = config?.stacklight;
    if (c === false) return null;
    if (config?.[INTERNAL] === true) return lifecycle.decide(url, undefined, true);
    if (c === undefined || c === true) return lifecycle.decide(url);
    if (c === null || typeof c !== 'object') {
      throw new ConfigError(
        `route ${url} config.stacklight`,
        c,
        'true, false or { metrics?, logs?, traces? }',
      );
    }
    const r = c as StacklightRouteConfig;
    return lifecycle.decide(url, { metrics: r.metrics, logs: r.logs, traces: r.traces });
  }

  // Decide per route when it is registered, not per request.
  fastify.addHook('onRoute', function stacklightOnRoute(route: RouteOptions) {
    const config = (route.config ?? {}) as RouteConfig;
    // A @fastify/websocket route (`websocket: true`) is hijacked by the
    // upgrade: its response never finishes, so request telemetry would only
    // ever record an abort. Its connections are tracked by trackWebSocket.
    const websocket = (route as { websocket?: unknown }).websocket === true;
    route.config = {
      ...config,
      [DECISION]:
        websocket && config.stacklight === undefined ? null : decisionFor(route.url, config),
    } as RouteOptions['config'];
  });

  fastify.decorateRequest('telemetry', null);

  fastify.addHook(
    'onRequest',
    function stacklightOnRequest(
      request: FastifyRequest,
      reply: FastifyReply,
      next: HookHandlerDoneFunction,
    ) {
      // routeOptions is a getter that builds an object: read it once.
      const ro = request.routeOptions;
      const config = ro.config as unknown as RouteConfig | undefined;
      let d = config?.[DECISION] as RouteDecision | null | undefined;
      if (d === undefined) {
        const url = ro.url;
        if (url === undefined || config === undefined) d = lifecycle.unmatchedDecision;
        else {
          d = late.get(config);
          if (d === undefined) {
            d = decisionFor(url, config);
            late.set(config, d);
          }
        }
      }
      if (d === null) {
        next();
        return;
      }
      // The request id goes out through the reply's own headers, not
      // `reply.raw.setHeader`: one header set on the raw response sends every
      // header Fastify passes to `writeHead` through Node's slow path
      // (`setHeader` each: lower-casing, validation, a dictionary store),
      // ~23 000 instructions per request here (bench/http/instructions.sh).
      // stacklight's own endpoints hijack the reply, so they keep the raw one.
      const rec = lifecycle.begin(request.raw, reply.raw, d, d.traces, d.internal);
      if (!d.internal) void reply.header(idHeader, rec.ctx.requestId);
      rec.userReq = request;
      request.telemetry = rec.ctx;
      if (lifecycle.refusing && !d.internal) {
        void reply
          .code(503)
          .header('connection', 'close')
          .type('application/json; charset=utf-8')
          .send(DRAINING_BODY);
        return;
      }
      lifecycle.enter(rec, next);
    },
  );

  fastify.addHook(
    'onError',
    function stacklightOnError(
      request: FastifyRequest,
      reply: FastifyReply,
      error: Error,
      next: () => void,
    ) {
      const rec = lifecycle.records.get(reply.raw);
      if (rec !== undefined) lifecycle.recordError(rec, error);
      next();
    },
  );

  if (options.userId !== undefined) {
    fastify.addHook(
      'preHandler',
      function stacklightPreHandler(
        request: FastifyRequest,
        reply: FastifyReply,
        next: HookHandlerDoneFunction,
      ) {
        const rec = lifecycle.records.get(reply.raw);
        if (rec !== undefined) lifecycle.resolveUserId(rec);
        next();
      },
    );
  }

  const internal = { [INTERNAL]: true } as unknown as RouteOptions['config'];
  if (options.healthPath !== undefined) {
    fastify.route({
      method: 'GET',
      url: options.healthPath,
      config: internal,
      handler: function stacklightHealth(request: FastifyRequest, reply: FastifyReply) {
        void reply
          .header('cache-control', 'no-store')
          .type('application/json; charset=utf-8')
          .send(HEALTH_BODY);
      },
    });
  }
  if (options.readinessPath !== undefined) {
    fastify.route({
      method: 'GET',
      url: options.readinessPath,
      config: internal,
      handler: async function stacklightReadiness(request: FastifyRequest, reply: FastifyReply) {
        const answer = await lifecycle.readiness.run();
        void reply.code(answer.statusCode).header('cache-control', 'no-store');
        return answer.body;
      },
    });
  }
  if (options.metricsPath !== undefined) {
    const handler = telemetry.metricsHandler;
    fastify.route({
      method: 'GET',
      url: options.metricsPath,
      config: internal,
      handler: function stacklightMetrics(request: FastifyRequest, reply: FastifyReply) {
        reply.hijack();
        handler(request.raw, reply.raw);
      },
    });
  }

  const removeDrain = telemetry.onShutdown('drain', 'http-fastify', (deadline) =>
    lifecycle.drain(deadline),
  );
  fastify.addHook(
    'onClose',
    function stacklightOnClose(_instance: FastifyInstance, next: () => void) {
      removeDrain();
      next();
    },
  );

  const guard = fastifyGuard(fastify.version);
  reportGuard(guard, lifecycle.errors.warn);
  if (fastifyLogsRequests(fastify, guard)) {
    lifecycle.errors.warn(
      'fastify-request-logging',
      "Fastify's own request logging is on, so requests and errors are logged twice. Create Fastify without a logger " +
        '(the default) or with `logController: new LogController({ disableRequestLogging: true })`.',
    );
  }
  done();
}

/**
 * The stacklight Fastify plugin: request metrics, one log line per request,
 * a server span continuing the caller's W3C trace, the request context, and
 * the opt-in `/metrics`, `/healthz` and `/readyz` endpoints. Wrapped with
 * fastify-plugin (name `stacklight`, Fastify 5), so its hooks apply to every
 * encapsulated context; register it before your routes.
 *
 * Per route: `config: { stacklight: false }` turns everything off (use it for
 * SSE and other responses that stay open), `config: { stacklight: { logs: false } }`
 * turns off one part.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { init } from 'stacklight';
 * import { stacklightPlugin } from 'stacklight/fastify';
 *
 * const telemetry = init({ service: 'edge' });
 * const app = Fastify();
 * await app.register(stacklightPlugin, {
 *   telemetry,
 *   metricsEndpoint: true,
 *   healthEndpoint: true,
 *   readinessEndpoint: true,
 *   readinessChecks: { db: () => pool.query('select 1') },
 *   userId: (request) => request.user?.id,
 * });
 * app.get('/users/:id', async (request) => getUser(request.params.id));
 * ```
 */
export const stacklightPlugin: FastifyPluginCallback<StacklightFastifyOptions> = fp(
  stacklightFastify,
  {
    name: 'stacklight',
    fastify: '5.x',
  },
);
