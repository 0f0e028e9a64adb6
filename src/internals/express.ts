/**
 * Express internals stacklight reads (not Express's public API), to give a
 * request under mounted routers its full route template
 * (`/api/orgs/:orgId/items/:id`) — middleware/express/route-template.ts and
 * express4-paths.ts:
 *
 * - the router stack: Express 4 `app._router.stack` (and `app.lazyrouter`
 *   to tell Express 4 apps apart), Express 5 `app.router.stack`;
 * - on each layer: `route`, `handle` (a mounted router's own `stack`);
 *   Express 4 `regexp` (with `fast_slash`) and `keys`; router 2 (Express 5)
 *   `slash`, `rawPath`, `matchers`, `match()` and the `path`/`params` it
 *   leaves on the layer before router 2.3;
 * - the regexp source path-to-regexp 0.1 builds for an Express 4 mount path,
 *   reversed into its template (`^\/orgs(?:\/([^/]+?))\/?(?=\/|$)` →
 *   `/orgs/:orgId`);
 * - `app.parent` of a mounted sub-app (with the public `app.mountpath`).
 *
 * Public path (an Express outside the tested range, or its version
 * unreadable): only `req.route.path`, `req.baseUrl` and `req.params` are
 * read. A route on the app itself gets the same template; under a mounted
 * router the prefix is the raw `baseUrl` with the values of `req.params`
 * replaced by their names — a mount parameter not in `req.params` (a router
 * without `mergeParams`) stays a raw value.
 */
import { installedVersion, lazyGuard, type GuardSpec } from './guard.js';

/** The Express versions CI runs the route templates on (4 and 5). */
export const EXPRESS: GuardSpec = {
  name: 'express',
  tested: [
    { from: '4.18.0', below: '5.0.0' },
    { from: '5.0.0', below: '6.0.0' },
  ],
  fastPath: 'the full route template across mounted routers',
  publicPath: 'the template from req.route, req.baseUrl and req.params',
  consequence: 'under a router mounted without mergeParams, a mount parameter stays a raw value',
};

/** The decision for the Express the service resolves (stacklight's peer; read once). */
export const expressGuard = lazyGuard(EXPRESS, () => installedVersion('express', import.meta.url));
