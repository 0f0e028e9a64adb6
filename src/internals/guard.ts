import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Version guards for the private internals stacklight borrows from its
 * dependencies (see the header of each module in this folder for what is
 * read). A fast path that reads another library's private parts is taken
 * only when the installed version is in a range CI runs (the lockfile's
 * versions and, through `scripts/newest-peers.mjs`, the newest published
 * ones); otherwise the public path is taken and a one-time diagnostic says
 * so. The check runs once, at load or at first use, never per call.
 *
 * One module per dependency names each read and its public path: pino.ts,
 * sonic-boom.ts, fastify.ts, express.ts, otel-sdk.ts, otel-api.ts, node.ts.
 * Diagnostics go through the caller's existing one-time warning (`init()`'s
 * `stacklight: …` line, an adapter's `stacklight/<adapter>: …` line).
 *
 * Known and not guarded here: `_errorHandler`, the mark @sentry/node puts on
 * its own `uncaughtException` listener, which crash-handler.ts reads (to
 * tell Sentry's handler from the service's) and sets on its own listener
 * (so that Sentry does not count it as the service's). It decides whether
 * the process ends after an uncaught exception, and without it neither side
 * can tell the other apart, so there is no public path that is safe in both
 * directions. (No test yet runs it with a service's own `Sentry.init` and
 * its default integrations.)
 */

/** Versions from `from` (inclusive) up to `below` (exclusive), `x.y.z`. */
export interface TestedRange {
  readonly from: string;
  readonly below: string;
}

/** What one module of this folder declares about its dependency. */
export interface GuardSpec {
  /** npm package name. */
  readonly name: string;
  /** The versions CI runs the fast path on. */
  readonly tested: readonly TestedRange[];
  /** What the fast path is, for the diagnostic ("the direct log line writer"). */
  readonly fastPath: string;
  /** What is used instead, for the diagnostic ("pino's own serializer"). */
  readonly publicPath: string;
  /** What a service notices on the public path ("same lines, more CPU per line"). */
  readonly consequence: string;
}

/** The decision for one dependency, taken once. */
export interface Guard {
  readonly name: string;
  /** Installed version; `undefined` when it could not be read (a bundle). */
  readonly version: string | undefined;
  /** `true`: the fast path (private internals) is used. */
  readonly fast: boolean;
  /** The diagnostic when `fast` is false. */
  readonly warning: string | undefined;
}

type Triple = [number, number, number];

/** `x.y.z` as numbers; `undefined` for anything else, a prerelease included (never tested). */
function parse(version: string): Triple | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compare(a: Triple, b: Triple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether `version` is inside one of `ranges`. */
export function inTestedRange(version: string, ranges: readonly TestedRange[]): boolean {
  const v = parse(version);
  if (v === undefined) return false;
  return ranges.some((r) => {
    const from = parse(r.from);
    const below = parse(r.below);
    return (
      from !== undefined && below !== undefined && compare(v, from) >= 0 && compare(v, below) < 0
    );
  });
}

/** The ranges as text: `>=10.4.0 <11.0.0`. */
export function rangeText(ranges: readonly TestedRange[]): string {
  return ranges.map((r) => `>=${r.from} <${r.below}`).join(' || ');
}

/** Decides between the fast and the public path for `version` of `spec.name`. */
export function decide(spec: GuardSpec, version: string | undefined): Guard {
  const fast = version !== undefined && inTestedRange(version, spec.tested);
  let warning: string | undefined;
  if (!fast) {
    const what =
      version === undefined
        ? `the installed ${spec.name} version could not be read`
        : `${spec.name} ${version} is outside the versions stacklight's fast path is tested with (${rangeText(spec.tested)})`;
    warning =
      `${what}; ${spec.fastPath} is off and ${spec.publicPath} is used instead ` +
      `(${spec.consequence}). Fix: update stacklight, or install a tested ${spec.name} version.`;
  }
  return { name: spec.name, version, fast, warning };
}

/**
 * The version of `pkg` as `require` resolves it from `base` (a file URL or
 * path): its `package.json`, found by walking up from its entry point (some
 * packages do not export `./package.json`). `undefined` when it cannot be
 * read — a bundled service, for instance. Never throws.
 */
export function installedVersion(pkg: string, base: string): string | undefined {
  try {
    let dir = dirname(createRequire(base).resolve(pkg));
    for (;;) {
      try {
        const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name?: unknown;
          version?: unknown;
        };
        if (json.name === pkg && typeof json.version === 'string') return json.version;
      } catch {
        // no package.json here: keep walking
      }
      const up = dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
  } catch {
    return undefined;
  }
}

/** A guard computed on first use and kept (one check per process). */
export function lazyGuard(spec: GuardSpec, version: () => string | undefined): () => Guard {
  let guard: Guard | undefined;
  return () => (guard ??= decide(spec, version()));
}

const reported = new WeakSet<Guard>();

/**
 * Hands the diagnostic of a guard on the public path to `warn`, once per
 * guard (once per process for the modules' own guards).
 */
export function reportGuard(guard: Guard, warn: (key: string, message: string) => void): void {
  if (guard.fast || guard.warning === undefined || reported.has(guard)) return;
  reported.add(guard);
  warn(`internals:${guard.name}`, guard.warning);
}
