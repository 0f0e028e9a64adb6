import { createRequire } from 'node:module';
import { join } from 'node:path';
import { SDK_VERSION } from './version.js';

/**
 * Start-up checks for what silently breaks telemetry in the field. Each
 * returns a warning that says what was found and how to fix it.
 */

const COPIES_KEY = Symbol.for('stacklight.loaded-copies');
type GlobalWithCopies = typeof globalThis & { [COPIES_KEY]?: { version: string; token: object }[] };

// Every evaluation of this module is one loaded copy of stacklight. An ESM
// and a CJS copy side by side (the dual-package hazard) means two registries,
// two context stores and, usually, two init() calls that disagree.
const copies = ((globalThis as GlobalWithCopies)[COPIES_KEY] ??= []);
copies.push({ version: SDK_VERSION, token: {} });

/** More than one copy of stacklight is loaded in this process. */
export function checkDuplicateCopies(): string | undefined {
  if (copies.length < 2) return undefined;
  const versions = copies.map((c) => c.version).join(', ');
  return (
    `stacklight is loaded ${copies.length} times in this process (versions ${versions}), e.g. once through ` +
    `import and once through require, or two versions in node_modules. Each copy has its own registry and ` +
    `context. Fix: load stacklight one way only (all import or all require) and run "npm dedupe".`
  );
}

function resolveFrom(base: string, id: string): string | undefined {
  try {
    return createRequire(base).resolve(id);
  } catch {
    return undefined;
  }
}

/**
 * A second copy of prom-client (or the `@prometheus-io/client` port) that the
 * service itself uses: its metrics land in that copy's global registry, which
 * stacklight's `/metrics` does not serve.
 */
export function checkPrometheusClients(cwd: string = process.cwd()): string | undefined {
  const appBase = join(cwd, 'package.json');
  const ours = resolveFrom(import.meta.url, 'prom-client');
  const theirs = resolveFrom(appBase, 'prom-client');
  const loaded = new Set<string>();
  for (const file of Object.keys(createRequire(import.meta.url).cache ?? {})) {
    const m = /^(.*[\\/]node_modules[\\/]prom-client)[\\/]index\.js$/.exec(file);
    if (m) loaded.add(m[1]!);
  }
  const dirs = new Set([...loaded]);
  if (ours !== undefined) dirs.add(ours.replace(/[\\/]index\.js$/, ''));
  if (theirs !== undefined) dirs.add(theirs.replace(/[\\/]index\.js$/, ''));
  const problems: string[] = [];
  if (dirs.size > 1) {
    problems.push(
      `${dirs.size} copies of prom-client are installed (${[...dirs].join(', ')}); metrics the service registers ` +
        `in its own copy's global registry are not served by stacklight. Fix: run "npm dedupe", and register ` +
        `your own metrics with telemetry.defineMetric() or in telemetry.registry.`,
    );
  }
  if (resolveFrom(appBase, '@prometheus-io/client') !== undefined) {
    problems.push(
      "@prometheus-io/client is installed beside stacklight: its metrics are not served by stacklight's " +
        'endpoint. Fix: define those metrics with telemetry.defineMetric() instead.',
    );
  }
  return problems.length > 0 ? problems.join(' ') : undefined;
}
