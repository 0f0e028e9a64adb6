/**
 * The one way stacklight reports a failure it absorbed (a throwing user
 * callback, a collector that failed, a span that could not end): it is
 * counted in `stacklight_internal_errors_total{component}` and said in a
 * `warn` line through the service's logger, at most one line per key per
 * minute; the next line of that key says how many were held back. A line
 * reads `stacklight: <message>` (`stacklight/<adapter>: <message>` from an
 * HTTP adapter) and carries `extra.stacklight` (the component, or the key of
 * a plain warning) so that it can be filtered.
 *
 * A leaf module: it imports nothing of stacklight. `init()` builds one per
 * handle and shares it with the adapters (see `handle-parts.ts`).
 */

/** `stacklight_internal_errors_total`, as far as the reporter uses it. */
export interface InternalErrorCounter {
  inc(labels: { component: string }, value?: number): void;
}

/** Where the warnings go (the service's logger). */
export interface WarningSink {
  warn(fields: object, msg: string): void;
}

/** Counts and warns; every method never throws. */
export interface InternalErrors {
  /** Counts `n` (default 1) absorbed failures of `component`, without a warning. */
  count(component: string, n?: number): void;
  /** A warning (nothing counted), at most one per `key` per interval. */
  warn(key: string, message: string, err?: unknown): void;
  /**
   * Counts one failure of `component` and warns, at most once per `key` per
   * interval (a key per queue or per kind of fault, never per request).
   */
  fault(component: string, key: string, message: string, err?: unknown): void;
  /** The same reporter (same counts and intervals), its lines prefixed `stacklight/<scope>:`. */
  scoped(scope: string): InternalErrors;
}

export interface InternalErrorsSetup {
  /** The self-metric; `undefined` where the handle has none (a partial test handle). */
  counter: InternalErrorCounter | undefined;
  /** The logger; `undefined` when warnings are off (`logging.diagnosticsLevel` below `warn`). */
  sink: WarningSink | undefined;
  /** Shortest interval between two lines of one key, in ms. @default 60000 */
  intervalMs?: number;
  now?: () => number;
}

/** Keys remembered at most; past this, the memory starts over (keys are per kind, not per request). */
const MAX_KEYS = 1000;

interface KeyState {
  last: number;
  held: number;
}

export function createInternalErrors(setup: InternalErrorsSetup): InternalErrors {
  const { counter, sink } = setup;
  const intervalMs = setup.intervalMs ?? 60_000;
  const now = setup.now ?? Date.now;
  const keys = new Map<string, KeyState>();

  const count = (component: string, n = 1): void => {
    try {
      counter?.inc({ component }, n);
    } catch {
      // Counting a fault must never become one.
    }
  };

  const write = (prefix: string, key: string, tag: string, message: string, err: unknown): void => {
    if (sink === undefined) return;
    try {
      const t = now();
      const state = keys.get(key);
      if (state !== undefined && t - state.last < intervalMs) {
        state.held++;
        return;
      }
      if (state === undefined && keys.size >= MAX_KEYS) keys.clear();
      const held = state?.held ?? 0;
      keys.set(key, { last: t, held: 0 });
      const more = held > 0 ? ` (${held} more since the last warning)` : '';
      const extra = { stacklight: tag };
      sink.warn(err === undefined ? { extra } : { extra, err }, `${prefix}${message}${more}`);
    } catch {
      // Reporting a fault must never become one.
    }
  };

  // Each scope keeps its own intervals: two adapters warning about the same
  // kind of fault both say it.
  const scoped = (scope: string | undefined): InternalErrors => {
    const prefix = scope === undefined ? 'stacklight: ' : `stacklight/${scope}: `;
    const keyOf = scope === undefined ? (key: string) => key : (key: string) => `${scope}|${key}`;
    return {
      count,
      warn: (key, message, err) => write(prefix, keyOf(key), key, message, err),
      fault: (component, key, message, err) => {
        count(component);
        write(prefix, keyOf(key), component, message, err);
      },
      scoped,
    };
  };
  return scoped(undefined);
}
