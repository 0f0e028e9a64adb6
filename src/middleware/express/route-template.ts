/**
 * The full route template of an Express request (`/api/orgs/:orgId/items/:id`)
 * across mounted routers and sub-apps, for Express 4 and 5, without patching
 * Express.
 *
 * Express only keeps the *raw* mount prefix (`req.baseUrl` is `/api/orgs/42`)
 * plus the matched `Route` (whose `path` is a template). So once per `Route`
 * object the router tree is walked from the app to find the chain of mount
 * layers that leads to it, and each mount layer's template is recovered:
 * Express 5 (router 2) keeps it as `layer.rawPath`; Express 4 only keeps the
 * compiled regexp, whose path-to-regexp 0.1 source is reversed
 * (`^\/orgs(?:\/([^/]+?))\/?(?=\/|$)` → `/orgs/:orgId`). With one chain of
 * plain mounts, the template is a constant cached on the route: one WeakMap
 * lookup per request. Only a router mounted at several places (or at an
 * array of paths) needs the raw `baseUrl` matched again to tell which mount
 * the request came through.
 *
 * Paths that are not strings are rendered as text: a RegExp as its source
 * (`/^\/files\/.*$/`), an array as its alternatives joined by `|`.
 */

import type { Guard } from '../../internals/guard.js';
import { expressGuard } from '../../internals/express.js';
import { express4Alternatives, reverseExpress4Mount, trimSlash } from './express4-paths.js';

/** The parts of an Express/router Layer read here (Express 4 and router 2). */
interface Layer {
  route?: unknown;
  handle?: unknown;
  // Express 4
  regexp?: (RegExp & { fast_slash?: boolean }) | undefined;
  keys?: Array<{ name?: unknown }>;
  // router 2 (Express 5)
  slash?: boolean;
  rawPath?: unknown;
  matchers?: unknown;
  match?: (path: string) => unknown;
  path?: unknown;
  params?: unknown;
}

/** The parts of an Express application read here. */
export interface ExpressAppLike {
  _router?: { stack?: unknown };
  router?: { stack?: unknown };
  lazyrouter?: unknown;
  parent?: ExpressAppLike;
  mountpath?: unknown;
}

/** The parts of an Express request read here. */
export interface ExpressRequestLike {
  route?: unknown;
  baseUrl?: unknown;
  params?: unknown;
}

const DYNAMIC = Symbol('dynamic');
type Piece = string | typeof DYNAMIC;

interface RouteInfo {
  /** Template when it does not depend on the request. */
  constant: string | undefined;
  routeTemplate: string;
  /**
   * The sub-app mount paths above the app holding the route, one entry per
   * way down (a sub-app mounted at an array of paths has several).
   */
  mounts: AppMount[];
  chains: Layer[][];
}

/** One way down the sub-app mount paths to the app holding a route. */
interface AppMount {
  /** Their template (`/t/:tenant`). */
  template: string;
  /**
   * Their segments (`['t', ':tenant']`), to match the raw `baseUrl`'s first
   * segments against; `undefined` when a path is not plain segments and
   * parameters (a RegExp, a wildcard, an optional parameter).
   */
  segments: string[] | undefined;
}

const infos = new WeakMap<object, RouteInfo>();
const pieces = new WeakMap<Layer, Piece>();

/** Longest chain of mounted routers followed, and most chains kept per route. */
const MAX_DEPTH = 16;
const MAX_CHAINS = 8;
/** Most ways down the sub-app mount paths kept per route. */
const MAX_MOUNTS = 8;

/** The template of a path argument (route or mount). */
export function pathTemplate(path: unknown): string {
  if (typeof path === 'string') return path === '' ? '/' : path;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) return path.flat(Infinity).map(pathTemplate).join('|');
  return String(path);
}

function join(prefix: string, routeTemplate: string): string {
  if (prefix === '') return routeTemplate;
  if (routeTemplate === '/') return prefix;
  return routeTemplate.startsWith('/') ? prefix + routeTemplate : prefix + '/' + routeTemplate;
}

/** The router stack of an app: Express 4 `app._router`, Express 5 `app.router`. */
export function routerStackOf(app: ExpressAppLike | undefined): Layer[] | undefined {
  if (app === undefined || app === null) return undefined;
  try {
    const four = app._router;
    if (four !== undefined) return Array.isArray(four.stack) ? (four.stack as Layer[]) : undefined;
    // Express 4 without a router yet (its `app.router` getter throws).
    if (typeof app.lazyrouter === 'function') return undefined;
    const stack = app.router?.stack;
    return Array.isArray(stack) ? (stack as Layer[]) : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- mount layers

/** The template a mount layer contributes, when it does not depend on the request. */
function pieceOf(layer: Layer): Piece {
  const cached = pieces.get(layer);
  if (cached !== undefined) return cached;
  let piece: Piece;
  const re = layer.regexp;
  if (re instanceof RegExp && layer.matchers === undefined) {
    if (re.fast_slash === true) piece = '';
    else
      piece =
        reverseExpress4Mount(re.source, layer.keys) ??
        (express4Alternatives(layer, re) === null ? String(re) : DYNAMIC);
  } else if (layer.slash === true) {
    piece = '';
  } else if (typeof layer.rawPath === 'string') {
    piece = trimSlash(layer.rawPath);
  } else if (layer.rawPath instanceof RegExp) {
    piece = String(layer.rawPath);
  } else {
    // An array of paths, or a router 2 version without rawPath.
    piece = DYNAMIC;
  }
  pieces.set(layer, piece);
  return piece;
}

/** Replaces the raw segments holding a parameter value by `:name`. */
function substituteParams(raw: string, params: unknown): string {
  if (params === null || typeof params !== 'object') return raw;
  const entries = Object.entries(params as Record<string, unknown>).filter(
    (e): e is [string, string] => typeof e[1] === 'string' && e[1] !== '',
  );
  if (entries.length === 0) return raw;
  const used = new Set<string>();
  return raw
    .split('/')
    .map((segment) => {
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // keep raw
      }
      const hit = entries.find(([name, value]) => !used.has(name) && value === decoded);
      if (hit === undefined) return segment;
      used.add(hit[0]);
      return ':' + hit[0];
    })
    .join('/');
}

/**
 * Matches one mount layer against the start of `remaining` (the raw
 * `baseUrl` still to explain): how much it consumes and the template piece.
 */
function consume(
  layer: Layer,
  remaining: string,
): { length: number; template: string } | undefined {
  const piece = pieceOf(layer);
  const re = layer.regexp;
  if (re instanceof RegExp && layer.matchers === undefined) {
    if (re.fast_slash === true) return { length: 0, template: '' };
    if (piece === DYNAMIC) {
      // An array of mount paths: the first alternative that matches, as Express does.
      for (const alt of express4Alternatives(layer, re) ?? []) {
        const m = alt.re.exec(remaining);
        if (m !== null && m.index === 0)
          return { length: trimSlash(m[0]).length, template: alt.template };
      }
      return undefined;
    }
    re.lastIndex = 0;
    const m = re.exec(remaining);
    if (m === null || m.index !== 0) return undefined;
    return { length: trimSlash(m[0]).length, template: piece };
  }
  if (layer.slash === true) return { length: 0, template: '' };
  if (typeof layer.match !== 'function') return undefined;
  const r = layer.match(remaining);
  let raw: unknown;
  let pattern: unknown;
  let params: unknown;
  if (r !== null && typeof r === 'object') {
    ({ path: raw, pattern, params } = r as { path?: unknown; pattern?: unknown; params?: unknown });
  } else if (r === true) {
    // router 2 before 2.3 stores the match on the layer.
    raw = layer.path;
    params = layer.params;
  } else {
    return undefined;
  }
  if (typeof raw !== 'string') return undefined;
  const consumed = trimSlash(raw);
  let template: string;
  if (typeof pattern === 'string') template = trimSlash(pattern);
  else if (pattern instanceof RegExp) template = String(pattern);
  else if (piece !== DYNAMIC) template = piece;
  else template = substituteParams(consumed, params);
  return { length: consumed.length, template };
}

function consumeChain(chain: Layer[], base: string): string | undefined {
  let template = '';
  let rest = base;
  for (const layer of chain) {
    const step = consume(layer, rest);
    if (step === undefined) return undefined;
    template += step.template;
    rest = rest.slice(step.length);
  }
  return rest === '' || rest === '/' ? template : undefined;
}

// ---------------------------------------------------------------- the tree

function isRouter(handle: unknown): handle is { stack: Layer[] } {
  return typeof handle === 'function' && Array.isArray((handle as { stack?: unknown }).stack);
}

function findChains(
  stack: Layer[],
  route: unknown,
  path: Layer[],
  out: Layer[][],
  seen: Set<unknown>,
): void {
  for (const layer of stack) {
    if (out.length >= MAX_CHAINS) return;
    if (layer === null || typeof layer !== 'object') continue;
    if (layer.route !== undefined) {
      if (layer.route === route) out.push(path.slice());
      continue;
    }
    const handle = layer.handle;
    if (isRouter(handle) && !seen.has(handle) && path.length < MAX_DEPTH) {
      seen.add(handle);
      path.push(layer);
      findChains(handle.stack, route, path, out, seen);
      path.pop();
      seen.delete(handle);
    }
  }
}

function analyse(
  app: ExpressAppLike | undefined,
  route: { path?: unknown },
  fast: boolean,
): RouteInfo {
  const routeTemplate = pathTemplate(route.path);
  // The router tree is Express's private state (internals/express.ts).
  if (!fast) return { constant: undefined, routeTemplate, mounts: [], chains: [] };
  // Sub-apps: the request is inside `app`; its mount paths (templates, kept
  // by Express as `mountpath`) prefix everything found in its own router.
  let appPrefix = ''; // a sub-app mounted at several paths is written with all of them (`/p|/q`)
  let mounts: AppMount[] = [{ template: '', segments: [] }];
  for (let a = app; a?.parent !== undefined && a.parent !== null; a = a.parent) {
    const mp = a.mountpath;
    appPrefix = (typeof mp === 'string' ? trimSlash(mp) : pathTemplate(mp)) + appPrefix;
    const paths: unknown[] = Array.isArray(mp) ? mp.flat(Infinity) : [mp];
    const next: AppMount[] = [];
    for (const path of paths) {
      const t = typeof path === 'string' ? trimSlash(path) : undefined;
      const segments = t === undefined ? undefined : mountSegments(t);
      for (const below of mounts) {
        if (next.length === MAX_MOUNTS) break;
        next.push({
          template: (t ?? pathTemplate(path)) + below.template,
          segments:
            segments === undefined || below.segments === undefined
              ? undefined
              : [...segments, ...below.segments],
        });
      }
    }
    mounts = next;
  }
  const chains: Layer[][] = [];
  const stack = routerStackOf(app);
  if (stack !== undefined) findChains(stack, route, [], chains, new Set());
  let constant: string | undefined;
  if (chains.length === 1) {
    const parts = chains[0]!.map(pieceOf);
    if (!parts.includes(DYNAMIC))
      constant = join(appPrefix + (parts as string[]).join(''), routeTemplate);
  }
  return { constant, routeTemplate, mounts, chains };
}

/** The segments of a trimmed mount path, or `undefined` when one is not plain. */
function mountSegments(path: string): string[] | undefined {
  if (path === '') return [];
  const segments = path.slice(1).split('/');
  // Each a literal or one named parameter (not a wildcard, an optional or a pattern).
  const plain = /^(?::[A-Za-z_$][\w$]*|[^:*?+(){}[\]\\]*)$/;
  return segments.every((s) => plain.test(s)) ? segments : undefined;
}

/** Whether the first segments of the raw `baseUrl` are those of `segments`. */
function matchesMount(raw: string, segments: string[]): boolean {
  if (segments.length === 0) return true; // no sub-app: the common case
  const parts = raw.split('/');
  for (let i = 0; i < segments.length; i++) {
    const part = parts[i + 1];
    if (part === undefined || part === '') return false;
    const want = segments[i]!;
    if (want.startsWith(':')) continue;
    // Express matches the raw (still percent-encoded) path, without case.
    if (part.toLowerCase() !== want.toLowerCase()) return false;
  }
  return true;
}

function dropSegments(path: string, n: number): string {
  let i = 0;
  for (let k = 0; k < n; k++) {
    const next = path.indexOf('/', i + 1);
    if (next === -1) return '';
    i = next;
  }
  return path.slice(i);
}

/**
 * The route template of the request, or `undefined` when no route matched.
 * Reads `req.app` (the application the request is in) only the first time
 * a route is seen: every property read on an Express request is a cache
 * miss (see `KEYED_RECORDS`). Walks Express's router tree only when
 * `guard` (default: the installed Express's) says its version is a tested
 * one. Never throws.
 */
export function expressRouteTemplate(
  req: ExpressRequestLike & { app?: ExpressAppLike },
  guard?: Guard,
): string | undefined {
  const route = req.route;
  if (route === null || typeof route !== 'object') return undefined;
  let info = infos.get(route);
  if (info === undefined) {
    info = analyse(req.app, route as { path?: unknown }, (guard ?? expressGuard()).fast);
    infos.set(route, info);
  }
  if (info.constant !== undefined) return info.constant;

  const rawBase = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  for (const mount of info.mounts) {
    if (mount.segments === undefined || !matchesMount(rawBase, mount.segments)) continue;
    const base = dropSegments(rawBase, mount.segments.length);
    for (const chain of info.chains) {
      const explained = consumeChain(chain, base);
      if (explained !== undefined) return join(mount.template + explained, info.routeTemplate);
    }
    // Not explained by the router tree (a router mounted through a wrapper
    // function, or the request already left it): below the mount paths, the
    // raw prefix with its parameter values replaced by their names.
    return join(mount.template + substituteParams(trimSlash(base), req.params), info.routeTemplate);
  }
  // Mount paths that cannot be matched segment by segment: the raw prefix
  // with its parameter values replaced by their names.
  return join(substituteParams(trimSlash(rawBase), req.params), info.routeTemplate);
}
