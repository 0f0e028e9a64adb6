import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import * as ownApi from '@opentelemetry/api';
import { GLOBAL_KEY, otelApiGuard } from '../internals/otel-api.js';

/** The OpenTelemetry API module, as stacklight uses it. */
export type OtelApi = typeof ownApi;

/** One installed copy of `@opentelemetry/api`. */
export interface ApiCopy {
  /** Package directory. */
  readonly dir: string;
  readonly version: string;
  /** Who resolves it: stacklight, the service (from its working directory or main module), or loaded. */
  readonly seenBy: readonly string[];
}

const PKG = '@opentelemetry/api';

function packageDir(file: string): string | undefined {
  const marker = `${sep}node_modules${sep}@opentelemetry${sep}api${sep}`;
  const at = file.lastIndexOf(marker);
  return at < 0 ? undefined : file.slice(0, at + marker.length - 1);
}

function versionOf(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

function resolveFrom(base: string, id: string): string | undefined {
  try {
    return createRequire(base).resolve(id);
  } catch {
    return undefined;
  }
}

/** Where the service resolves packages from: its working directory and its main module. */
export function serviceBases(cwd: string = process.cwd()): string[] {
  const bases = [join(cwd, 'package.json')];
  const main = process.argv[1];
  if (main !== undefined && existsSync(main)) bases.push(main);
  return bases;
}

/**
 * Every copy of `@opentelemetry/api` this process can see: stacklight's own,
 * the one the service resolves, and any loaded through `require`. More than
 * one copy works only while the newest is the one that registered the
 * globals (an older API refuses globals registered by a newer minor, and
 * the other way round registration fails).
 */
export function apiCopies(cwd: string = process.cwd()): ApiCopy[] {
  const found = new Map<string, Set<string>>();
  const add = (file: string | undefined, who: string): void => {
    const dir = file === undefined ? undefined : packageDir(file);
    if (dir === undefined) return;
    const set = found.get(dir) ?? new Set<string>();
    set.add(who);
    found.set(dir, set);
  };
  add(resolveFrom(import.meta.url, PKG), 'stacklight');
  for (const base of serviceBases(cwd)) add(resolveFrom(base, PKG), 'service');
  for (const file of Object.keys(createRequire(import.meta.url).cache ?? {})) add(file, 'loaded');
  return [...found].map(([dir, seenBy]) => ({ dir, version: versionOf(dir), seenBy: [...seenBy] }));
}

function parse(version: string): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function newer(a: string, b: string): boolean {
  const x = parse(a);
  const y = parse(b);
  if (x === undefined || y === undefined) return false;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return false;
}

/**
 * The version of the API that registered the globals, if any did; read from
 * the API's private registry only on a tested API (internals/otel-api.ts).
 */
export function registeredApiVersion(fast: boolean = otelApiGuard().fast): string | undefined {
  if (!fast) return undefined;
  const g = (globalThis as Record<symbol, { version?: string } | undefined>)[GLOBAL_KEY];
  return typeof g?.version === 'string' ? g.version : undefined;
}

/**
 * The API copy to register stacklight's globals through, so that every copy
 * in the process sees them: the one whose version matches globals already
 * registered, else the newest 1.x the service resolves (an API reads globals
 * registered by the same or a newer minor), else stacklight's own.
 */
export function apiForGlobals(cwd: string = process.cwd()): OtelApi {
  const own = ownApi as OtelApi;
  const ownVersion = ownVersionOf();
  const registered = registeredApiVersion();
  let best: { dir: string; version: string } | undefined;
  for (const base of serviceBases(cwd)) {
    const file = resolveFrom(base, PKG);
    const dir = file === undefined ? undefined : packageDir(file);
    if (dir === undefined) continue;
    const version = versionOf(dir);
    if (parse(version)?.[0] !== 1) continue;
    if (
      registered !== undefined
        ? version === registered
        : newer(version, best?.version ?? ownVersion)
    )
      best = { dir, version };
  }
  if (best === undefined || (registered !== undefined && registered === ownVersion)) return own;
  try {
    const loaded = createRequire(join(best.dir, 'package.json'))(best.dir) as OtelApi;
    return typeof loaded?.trace?.setGlobalTracerProvider === 'function' ? loaded : own;
  } catch {
    return own;
  }
}

let cachedOwn: string | undefined;
/** The version of stacklight's own copy of the API. */
export function ownVersionOf(): string {
  if (cachedOwn !== undefined) return cachedOwn;
  const file = resolveFrom(import.meta.url, PKG);
  const dir = file === undefined ? undefined : packageDir(file);
  cachedOwn = dir === undefined ? 'unknown' : versionOf(dir);
  return cachedOwn;
}

/** One copy, for messages: version, directory and who resolves it. */
export function describeCopy(copy: ApiCopy): string {
  return `${copy.version} at ${copy.dir} (${copy.seenBy.join(', ')})`;
}

/**
 * The copies of the API the service resolves (from its working directory and
 * main module), loaded, for checking what they see. Never throws.
 */
export function serviceApis(cwd: string = process.cwd()): { copy: string; api: OtelApi }[] {
  const out: { copy: string; api: OtelApi }[] = [];
  const seen = new Set<string>();
  for (const base of serviceBases(cwd)) {
    const file = resolveFrom(base, PKG);
    const dir = file === undefined ? undefined : packageDir(file);
    if (dir === undefined || seen.has(dir)) continue;
    seen.add(dir);
    try {
      const api = createRequire(join(dir, 'package.json'))(dir) as OtelApi;
      if (typeof api?.trace?.getTracerProvider === 'function')
        out.push({ copy: `${versionOf(dir)} at ${dir}`, api });
    } catch {
      // Not loadable: nothing to check.
    }
  }
  return out;
}
