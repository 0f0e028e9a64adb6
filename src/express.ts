/**
 * Public API of `stacklight/express`: the middleware and error handler for
 * Express 4 and 5. Everything exported is listed by name. Express itself is
 * an optional peer: this entry does not import it, not even its types.
 */
export { stacklightErrorHandler, stacklightMiddleware } from './middleware/express/middleware.js';
export type {
  ExpressErrorMiddleware,
  ExpressMiddleware,
  NextFunctionLike,
  StacklightErrorHandlerOptions,
} from './middleware/express/middleware.js';
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
} from './middleware/types.js';
