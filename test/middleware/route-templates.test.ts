/**
 * The route template of an Express request (the `route` label, log field and
 * span name), read at the end of real requests to real Express 4 and 5 apps:
 * routers mounted with parameters and without `mergeParams` (where the raw
 * `baseUrl` cannot be explained from `req.params`), a router mounted at
 * several places, at an array of paths, at `/` and at a RegExp, sub-apps
 * mounted at a parameter or at several paths, and the bounds of the router
 * walk. Then the public path (an Express outside the tested range) and
 * requests that are not Express's own.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express5, { type Request, type Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { EXPRESS_MAJORS, type App } from './express-majors.js';
import { EXPRESS } from '../../src/internals/express.js';
import { decide, type Guard } from '../../src/internals/guard.js';
import {
  expressRouteTemplate,
  type ExpressAppLike,
  type ExpressRequestLike,
} from '../../src/middleware/express/route-template.js';

/** The decision for an Express outside the tested range: the public path. */
const PUBLIC = decide(EXPRESS, '99.0.0');

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Templates seen by the handlers, by request URL. */
type Seen = Map<string, string | undefined>;

/** A route handler that records the request's template (read as the middleware reads it). */
function recorder(seen: Seen, guard?: Guard, view?: (req: Request) => object) {
  return (req: Request, res: Response): void => {
    const r = (view?.(req) ?? req) as ExpressRequestLike & { app?: ExpressAppLike };
    seen.set(req.originalUrl, expressRouteTemplate(r, guard));
    res.end();
  };
}

/** Requests every URL of `expected` and compares the templates seen. */
async function expectTemplates(
  app: App,
  seen: Seen,
  expected: Record<string, string | undefined>,
): Promise<void> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const url of Object.keys(expected)) {
    const res = await fetch(base + url);
    await res.text();
    expect(res.status, url).toBe(200);
  }
  expect(Object.fromEntries(seen)).toEqual(expected);
}

describe.each(EXPRESS_MAJORS)('%s route templates', (major, express) => {
  const five = major === 'Express 5';
  /** Catch-all route path: Express 4 `*`, Express 5 a named wildcard. */
  const star = five ? '/*rest' : '*';

  it('gives routes on the app their own path, `/` included', async () => {
    const seen: Seen = new Map();
    const app = express();
    const h = recorder(seen);
    app.get('/', h);
    app.get('/users/:id', h);
    app.get(star, h);
    await expectTemplates(app, seen, {
      '/': '/',
      '/users/7': '/users/:id',
      '/any/thing': star,
    });
  });

  it('names the parameters of a mount path, without mergeParams, under routers and sub-apps', async () => {
    const seen: Seen = new Map();
    const app = express();
    const h = recorder(seen);
    const items = express.Router();
    items.get('/items/:id', h);
    items.get('/', h);
    app.use('/orgs/:orgId', items);
    // A route path that does not start with `/` (Express 4's catch-all).
    const files = express.Router();
    files.get(star, h);
    app.use('/files', files);
    // Mounted at the root: contributes nothing to the template.
    const root = express.Router();
    root.get('/status/:probe', h);
    app.use(root);
    // Mounted at a RegExp: rendered as the RegExp.
    const byRegExp = express.Router();
    byRegExp.get('/items/:id', h);
    app.use(/^\/re\/\d+/, byRegExp);
    await expectTemplates(app, seen, {
      '/orgs/42/items/7': '/orgs/:orgId/items/:id',
      '/orgs/43': '/orgs/:orgId',
      '/files/a/b.txt': five ? '/files/*rest' : '/files/*',
      '/status/live': '/status/:probe',
      '/re/12/items/3': '/^\\/re\\/\\d+//items/:id',
    });
  });

  it('tells apart the mounts of a router used at several places, the root and a RegExp among them', async () => {
    const seen: Seen = new Map();
    const app = express();
    const shared = express.Router();
    shared.get('/items/:id', recorder(seen));
    app.use('/orgs/:orgId', shared);
    // Tried first for /teams/9/…, it explains only part of the path.
    app.use('/teams', shared);
    app.use('/teams/:teamId', shared);
    app.use(/^\/re\/\d+/, shared);
    // A trailing slash too many: Express 4 leaves one on baseUrl (`/b/7/`) for `/b/7///…`.
    app.use('/b/:x//', shared);
    app.use(shared);
    const expected: Record<string, string> = {
      '/orgs/42/items/7': '/orgs/:orgId/items/:id',
      '/teams/9/items/8': '/teams/:teamId/items/:id',
      '/teams/items/6': '/teams/items/:id',
      '/re/12/items/3': '/^\\/re\\/\\d+//items/:id',
      '/items/5': '/items/:id',
    };
    if (!five) expected['/b/7///items/1'] = '/b/:x/items/:id';
    await expectTemplates(app, seen, expected);
  });

  it('tells the paths of an array mount apart, even when a value equals a literal segment', async () => {
    const seen: Seen = new Map();
    const app = express();
    const r = express.Router();
    r.get('/items/:id', recorder(seen));
    app.use(['/a/:x', '/b/:y'], r);
    await expectTemplates(app, seen, {
      '/a/a/items/1': '/a/:x/items/:id',
      '/b/7/items/2': '/b/:y/items/:id',
      '/b/b/items/3': '/b/:y/items/:id',
    });
  });

  it('renders a RegExp among the paths of an array mount as a RegExp, never the value it matched', async () => {
    const seen: Seen = new Map();
    const app = express();
    const r = express.Router();
    r.get('/items/:id', recorder(seen));
    app.use(['/s', /^\/c\/\d+/], r);
    // Express 4 compiles the paths into one RegExp and cannot split a RegExp back out of it.
    const both = '/^\\/s\\/?(?=\\/|$)|^\\/c\\/\\d+/i/items/:id';
    await expectTemplates(app, seen, {
      '/c/5/items/1': five ? '/^\\/c\\/\\d+//items/:id' : both,
      '/s/items/2': five ? '/s/items/:id' : both,
    });
  });

  it('prefixes the mount paths of sub-apps, a parameter and nested sub-apps included', async () => {
    const seen: Seen = new Map();
    const app = express();
    const h = recorder(seen);
    // A sub-app at a parameter, holding a router mounted twice.
    const tenant = express();
    const shared = express.Router();
    shared.get('/x/:id', h);
    tenant.use('/a', shared);
    tenant.use('/b', shared);
    tenant.use(shared);
    tenant.get('/home', h);
    app.use('/t/:tenant', tenant);
    // Sub-apps two deep.
    const outer = express();
    const inner = express();
    const deep = express.Router();
    deep.get('/y/:id', h);
    inner.use('/c', deep);
    inner.use('/d', deep);
    outer.use('/i/:k', inner);
    app.use('/o', outer);
    await expectTemplates(app, seen, {
      '/t/acme/a/x/1': '/t/:tenant/a/x/:id',
      '/t/acme/b/x/2': '/t/:tenant/b/x/:id',
      '/t/acme/x/3': '/t/:tenant/x/:id',
      '/t/acme/home': '/t/:tenant/home',
      '/o/i/7/c/y/1': '/o/i/:k/c/y/:id',
      '/o/i/7/d/y/2': '/o/i/:k/d/y/:id',
    });
  });

  it('gives a sub-app mounted at several paths all of them, or the path the request took', async () => {
    const seen: Seen = new Map();
    const app = express();
    const h = recorder(seen);
    const multi = express();
    multi.get('/direct/:id', h);
    const once = express.Router();
    once.get('/x/:id', h);
    multi.use('/once', once);
    const onceAtRegExp = express.Router();
    onceAtRegExp.get('/x/:id', h);
    multi.use(/^\/rx\/\d+/, onceAtRegExp);
    // Mounted twice in a sub-app mounted twice: the raw path the request took.
    const twice = express.Router();
    twice.get('/x/:id', h);
    multi.use('/a', twice);
    multi.use('/b', twice);
    app.use(['/p', '/q'], multi);
    const expected: Record<string, string> = {
      '/q/direct/1': '/p|/q/direct/:id',
      '/q/once/x/2': '/p|/q/once/x/:id',
      '/q/rx/5/x/6': '/p|/q/^\\/rx\\/\\d+//x/:id',
      '/q/a/x/3': '/q/a/x/:id',
    };
    if (!five) {
      // The same with `/` among the sub-app's paths (router 2 matches no
      // request on `/` inside an array).
      const anywhere = express();
      const twice2 = express.Router();
      twice2.get('/z/:id', h);
      anywhere.use('/in', twice2);
      anywhere.use('/on', twice2);
      app.use(['/r', '/'], anywhere);
      expected['/in/z/4'] = '/in/z/:id';
      // Under a sub-app mounted at two segments, next to a mount that looks
      // like those two segments' end: the raw path still.
      const outer = express();
      const inside = express();
      const twice3 = express.Router();
      twice3.get('/w/:id', h);
      inside.use('/a/in', twice3);
      inside.use('/in', twice3);
      outer.use(['/r', '/'], inside);
      app.use('/o/a', outer);
      expected['/o/a/in/w/5'] = '/o/a/in/w/:id';
    }
    await expectTemplates(app, seen, expected);
  });

  it('names the parameters of sub-app mount paths, whichever way the request came down', async () => {
    const seen: Seen = new Map();
    const app = express();
    const h = recorder(seen);
    // A router mounted twice (no mergeParams) in a sub-app mounted at two parametered paths.
    const tenant = express();
    const twice = express.Router();
    twice.get('/x/:id', h);
    tenant.use('/a', twice);
    tenant.use('/b', twice);
    app.use(['/t/:tenant', '/u/:tenant'], tenant);
    // A router reached through a wrapper function (no tree to walk) in a sub-app at a parameter.
    const wrapped = express();
    const inner = express.Router();
    inner.get('/y/:id', h);
    wrapped.use('/w', (req, res, next) => inner(req, res, next));
    app.use('/s/:org', wrapped);
    // Nested: a sub-app at two parametered paths inside one at a parameter.
    const outer = express();
    const nested = express();
    const again = express.Router();
    again.get('/z/:id', h);
    nested.use('/c', again);
    nested.use('/d', again);
    outer.use(['/e/:env', '/f/:env'], nested);
    app.use('/r/:region', outer);
    await expectTemplates(app, seen, {
      '/t/acme/a/x/1': '/t/:tenant/a/x/:id',
      '/u/Bob%20Ltd/b/x/2': '/u/:tenant/b/x/:id',
      '/T/acme/b/x/3': '/t/:tenant/b/x/:id',
      '/s/carol/w/y/4': '/s/:org/w/y/:id',
      '/r/eu/f/prod/d/z/5': '/r/:region/f/:env/d/z/:id',
    });
  });

  it('walks at most 16 routers deep and keeps at most 8 mounts of a route; beyond, the public-path template', async () => {
    const seen: Seen = new Map();
    const app = express();
    const h = recorder(seen);
    // One router mounted at 9 places (no mergeParams: the public path keeps the value).
    const many = express.Router();
    many.get('/x/:id', h);
    for (let i = 0; i < 9; i++) app.use(`/m${i}/:k`, many);
    // 17 routers, each mounted in the one before.
    const chain = Array.from({ length: 17 }, () => express.Router());
    app.use('/d/:k', chain[0]!);
    for (let i = 1; i < chain.length; i++) chain[i - 1]!.use('/d', chain[i]!);
    chain[15]!.get('/x/:id', h); // 16 mounts down
    chain[16]!.get('/y/:id', h); // 17 mounts down
    const d = (n: number): string => '/d'.repeat(n);
    await expectTemplates(app, seen, {
      '/m7/1/x/2': '/m7/:k/x/:id',
      '/m8/1/x/2': '/m8/1/x/:id',
      [`/d/1${d(15)}/x/2`]: `/d/:k${d(15)}/x/:id`,
      [`/d/1${d(16)}/y/2`]: `/d/1${d(16)}/y/:id`,
    });
  });

  it('on the public path, names what req.params holds (decoded) and leaves the rest raw', async () => {
    const seen: Seen = new Map();
    const app = express();
    const h = recorder(seen, PUBLIC);
    app.get('/health/:probe', h);
    const merged = express.Router({ mergeParams: true });
    merged.get('/items/:id', h);
    app.use('/orgs/:orgId', merged);
    const unmerged = express.Router();
    unmerged.get('/items/:id', h);
    app.use('/teams/:teamId', unmerged);
    await expectTemplates(app, seen, {
      '/health/live': '/health/:probe',
      '/orgs/acme%20corp/items/1': '/orgs/:orgId/items/:id',
      '/teams/42/items/7': '/teams/42/items/:id',
    });
  });

  it('tries at most 8 ways down the sub-app mount paths; beyond, the raw prefix', async () => {
    const seen: Seen = new Map();
    const app = express();
    const sub = express();
    const r = express.Router();
    r.get('/m/:id', recorder(seen));
    sub.use('/one', r);
    sub.use('/two', r);
    app.use(
      Array.from({ length: 9 }, (_, i) => `/w${i + 1}/:t`),
      sub,
    );
    await expectTemplates(app, seen, {
      '/w8/acme/one/m/1': '/w8/:t/one/m/:id',
      '/w9/acme/two/m/2': '/w9/acme/two/m/:id',
    });
  });

  it('matches sub-app mount paths segment by segment: literals in any case, the root, paths it cannot match', async () => {
    const seen: Seen = new Map();
    const app = express();
    const h = recorder(seen);
    /** A sub-app holding a router mounted twice (no mergeParams): the request decides the mount. */
    const sub = (name: string) => {
      const s = express();
      const r = express.Router();
      r.get(`/${name}/:id`, h);
      s.use('/one', r);
      s.use('/two', r);
      return s;
    };
    app.use(['/tenants/:tenant', '/orgs/:tenant'], sub('a'));
    app.use(/^\/rx\/\d+/, sub('b'));
    app.use(five ? '/files{/:name}' : '/files/:name?', sub('c'));
    app.use('/v1/', sub('e'));
    const once = express();
    const r = express.Router();
    r.get('/f/:id', h);
    once.use('/only', r);
    app.use('/v2/', once);
    // A router mounted at parametered paths (no mergeParams) in a sub-app at the root.
    const root = express();
    const p = express.Router();
    p.get('/g/:id', h);
    root.use('/p/:pid', p);
    root.use('/q/:pid', p);
    app.use('/', root);
    // A sub-app at a RegExp inside one at a parameter: the raw prefix.
    const outer = express();
    outer.use(/^\/in\d/, sub('k'));
    app.use('/o/:x', outer);
    app.use('/', sub('d'));
    await expectTemplates(app, seen, {
      '/v1/one/e/7': '/v1/one/e/:id',
      '/v2/only/f/8': '/v2/only/f/:id',
      '/q/77/g/9': '/q/:pid/g/:id',
      '/o/5/in3/two/k/10': '/o/5/in3/two/k/:id',
      '/tenants/acme/one/a/1': '/tenants/:tenant/one/a/:id',
      '/orgs/acme/two/a/2': '/orgs/:tenant/two/a/:id',
      '/ORGS/acme/two/a/3': '/orgs/:tenant/two/a/:id',
      // A RegExp or an optional parameter cannot be matched segment by segment: the raw prefix.
      '/rx/7/one/b/4': '/rx/7/one/b/:id',
      '/files/x/one/c/5': '/files/x/one/c/:id',
      '/two/d/6': '/two/d/:id',
    });
  });
});

describe('Express 5 with router 2.0 to 2.2 (the match left on the layer)', () => {
  /**
   * The app as router 2.0–2.2 build it: mount layers without `rawPath`
   * whose `match()` answers true or false and leaves the matched `path` and
   * `params` on the layer. (Their route layers and routers are the app's.)
   */
  function asRouter22(app: App): ExpressAppLike {
    type Layer = {
      handle: unknown;
      route?: unknown;
      slash?: boolean;
      matchers: unknown;
      match(path: string): unknown;
    };
    const stack = (app as unknown as { router: { stack: Layer[] } }).router.stack;
    return {
      router: {
        stack: stack.map((layer) => {
          const legacy = {
            handle: layer.handle,
            route: layer.route,
            slash: layer.slash,
            matchers: layer.matchers,
            path: undefined as unknown,
            params: undefined as unknown,
            match(path: string): boolean {
              const m = layer.match(path) as { path: string; params: object } | false;
              legacy.path = m === false ? undefined : m.path;
              legacy.params = m === false ? undefined : m.params;
              return m !== false;
            },
          };
          return legacy;
        }),
      },
    };
  }

  it('names the mount parameters from the match left on the layer', async () => {
    const seen: Seen = new Map();
    const app = express5();
    const legacy = asRouter22(app);
    const view = (req: Request) => ({
      route: req.route,
      baseUrl: req.baseUrl,
      params: req.params,
      app: legacy,
    });
    const h = recorder(seen, undefined, view);
    const items = express5.Router();
    items.get('/items/:id', h);
    app.use('/orgs/:orgId', items);
    app.use(['/a/:x', '/b/:y'], items);
    const root = express5.Router();
    root.get('/status/:probe', h);
    app.use(root);
    // Rebuilt once the app holds every layer.
    Object.assign(legacy, asRouter22(app));
    await expectTemplates(app, seen, {
      '/orgs/42/items/7': '/orgs/:orgId/items/:id',
      '/b/8/items/9': '/b/:y/items/:id',
      '/status/live': '/status/:probe',
    });
  });
});

describe('requests that are not Express’s own', () => {
  it('answers undefined for a request that matched no route', () => {
    expect(expressRouteTemplate({})).toBeUndefined();
    expect(expressRouteTemplate({ route: null })).toBeUndefined();
    expect(expressRouteTemplate({ route: '/users/:id' })).toBeUndefined();
  });

  it('answers from the route, baseUrl and params of a request without an app', () => {
    expect(
      expressRouteTemplate({
        route: { path: '/items/:id' },
        baseUrl: '/orgs/42',
        params: { orgId: '42', id: '7' },
      }),
    ).toBe('/orgs/:orgId/items/:id');
    expect(expressRouteTemplate({ route: { path: '/only' } })).toBe('/only');
  });

  it('keeps the raw prefix when params are missing, and ignores values that are not text', () => {
    const route = (): ExpressRequestLike => ({ route: { path: '/x' }, baseUrl: '/orgs/42/' });
    expect(expressRouteTemplate(route())).toBe('/orgs/42/x');
    expect(expressRouteTemplate({ ...route(), params: null })).toBe('/orgs/42/x');
    expect(expressRouteTemplate({ ...route(), params: { empty: '', n: 42, orgId: '42' } })).toBe(
      '/orgs/:orgId/x',
    );
  });

  it('gives each parameter one segment when two hold the same value', () => {
    expect(
      expressRouteTemplate(
        { route: { path: '/x' }, baseUrl: '/a/7/b/7', params: { first: '7', second: '7' } },
        PUBLIC,
      ),
    ).toBe('/a/:first/b/:second/x');
  });
});
