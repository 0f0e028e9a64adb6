/**
 * `@opentelemetry/api` internals stacklight reads (not the API's public
 * surface):
 *
 * - the context key of the active span, `Symbol.for('OpenTelemetry Context
 *   Key SPAN')` (the API's `createContextKey` is `Symbol.for`):
 *   tracing/span-context.ts makes a server span's context one small object
 *   holding it, instead of the API's copy of the whole context map. Also
 *   probed once at load: the API must read the span back from it;
 * - the key of the API's global registry, `Symbol.for('opentelemetry.js.api.1')`,
 *   and the `version` the registering copy writes there: tracing/otel-api.ts
 *   registers stacklight's globals through the API copy that can read them.
 *
 * Public path (an API outside the tested range, or its version unreadable):
 * `trace.setSpan(parent, span)` (the same context, more allocation per
 * request), and the registered version counts as unknown, so the globals are
 * registered through the newest 1.x copy the service resolves.
 */
import { installedVersion, lazyGuard, type GuardSpec } from './guard.js';

/** The API versions CI runs these reads on. */
export const OTEL_API: GuardSpec = {
  name: '@opentelemetry/api',
  tested: [{ from: '1.9.0', below: '2.0.0' }],
  fastPath: "the one-object span context and the read of the API's global registry",
  publicPath: 'trace.setSpan()',
  consequence: 'same context, more allocation per traced request',
};

/** The decision for the API copy stacklight imports (read once). */
export const otelApiGuard = lazyGuard(OTEL_API, () =>
  installedVersion('@opentelemetry/api', import.meta.url),
);

/** The API's context key of the active span. */
export const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/** The API's global registry key (major version 1). */
export const GLOBAL_KEY = Symbol.for('opentelemetry.js.api.1');
