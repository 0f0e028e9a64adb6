import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The request or job context shared by logs and spans. One mutable object per
 * request/job: the middleware fills `route` once the router has matched, the
 * logger reads whatever is set at the time a line is written.
 */
export interface TelemetryContext {
  requestId?: string;
  userId?: string;
  route?: string;
  method?: string;
  queue?: string;
  job?: string;
  jobId?: string;
  attempt?: number;
  eventId?: string;
}

/**
 * One store for the whole process. Kept on `globalThis` under a registered
 * symbol so that an ESM and a CJS copy of stacklight loaded side by side still
 * share the same context (the dual-package hazard would otherwise give each
 * copy its own store and lose correlation silently).
 */
const STORE_KEY = Symbol.for('stacklight.context.store');

type GlobalWithStore = typeof globalThis & {
  [STORE_KEY]?: AsyncLocalStorage<TelemetryContext>;
};

const g = globalThis as GlobalWithStore;
const store: AsyncLocalStorage<TelemetryContext> = (g[STORE_KEY] ??=
  new AsyncLocalStorage<TelemetryContext>());

/** The active context, or `undefined` outside a request or job. */
export function getContext(): TelemetryContext | undefined {
  return store.getStore();
}

/** Runs `fn` with `ctx` as the active context. */
export function runWithContext<T>(ctx: TelemetryContext, fn: () => T): T {
  return store.run(ctx, fn);
}

/**
 * Sets `ctx` as the active context for the rest of the current synchronous
 * execution and everything it schedules. Used by framework hooks that cannot
 * wrap the handler in a callback (Fastify's onRequest).
 */
export function enterContext(ctx: TelemetryContext): void {
  store.enterWith(ctx);
}
