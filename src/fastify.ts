/**
 * Public API of `stacklight/fastify`: the Fastify 5 plugin. Everything
 * exported is listed by name. Fastify itself is an optional peer: this entry
 * imports only its types.
 */
import type { TelemetryContext } from './context.js';
import type { StacklightRouteConfig } from './middleware/types.js';

export { stacklightPlugin } from './middleware/fastify/plugin.js';
export type { StacklightFastifyOptions } from './middleware/fastify/plugin.js';
export { ABORTED_STATUS, OTHER_METHOD, UNMATCHED_ROUTE } from './middleware/conventions.js';
export type {
  HttpTelemetryOptions,
  ReadinessBody,
  ReadinessCheck,
  ReadinessCheckFn,
  ReadinessCheckOptions,
  ReadinessCheckResult,
  RequestErrorHook,
  RequestLogLevel,
  RequestLogLevels,
  StacklightRouteConfig,
} from './middleware/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The request context stacklight started (`requestId`, `route`, `method`,
     * `userId`): the object `getContext()` returns during the request; `null`
     * on routes that opted out (`config: { stacklight: false }`). Set
     * `request.telemetry.userId` after authentication to have it on every
     * later line of the request.
     */
    telemetry: TelemetryContext | null;
  }
  interface FastifyContextConfig {
    /**
     * stacklight per-route settings: `false` turns the request telemetry off
     * for the route (SSE and other long-lived responses); an object turns off
     * parts of it.
     */
    stacklight?: boolean | StacklightRouteConfig;
  }
}
