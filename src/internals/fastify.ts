/**
 * Fastify internals stacklight reads (not Fastify's public API):
 *
 * - the instance property under the symbol described `fastify.logController`
 *   — its `disableRequestLogging`, so that the plugin can warn when
 *   Fastify's own request logging would log every request a second time
 *   (Fastify 5 keeps the setting there when it is given as
 *   `logController: new LogController({ disableRequestLogging })`).
 *
 * Public path (a Fastify outside the tested range): only
 * `fastify.initialConfig.disableRequestLogging` (the top-level option) is
 * read; a setting given through a LogController is not seen, so the
 * warning may be written although request logging is off. Nothing else
 * changes. The version is the instance's own `fastify.version`.
 */
import { decide, type Guard, type GuardSpec } from './guard.js';

/** The Fastify versions CI runs the plugin on. */
export const FASTIFY: GuardSpec = {
  name: 'fastify',
  tested: [{ from: '5.0.0', below: '6.0.0' }],
  fastPath: "the read of Fastify's log controller (request-logging check)",
  publicPath: 'the top-level disableRequestLogging option',
  consequence: 'the double request-logging warning may show although a LogController turned it off',
};

const guards = new Map<string, Guard>();

/** The decision for a Fastify instance's version (one per version seen). */
export function fastifyGuard(version: unknown): Guard {
  const key = typeof version === 'string' ? version : '';
  let guard = guards.get(key);
  if (guard === undefined) {
    guard = decide(FASTIFY, key === '' ? undefined : key);
    guards.set(key, guard);
  }
  return guard;
}

/**
 * `disableRequestLogging` as Fastify's private log controller holds it on
 * `fastify` or a prototype of it; `undefined` when there is none.
 */
export function logControllerSetting(fastify: object): unknown {
  for (
    let o: object | null = fastify;
    o !== null && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    const key = Object.getOwnPropertySymbols(o).find(
      (s) => s.description === 'fastify.logController',
    );
    if (key !== undefined) {
      return (o as Record<symbol, { disableRequestLogging?: unknown } | undefined>)[key]
        ?.disableRequestLogging;
    }
  }
  return undefined;
}
