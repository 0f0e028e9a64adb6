import { context, trace, INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import { getContext } from '../context.js';
import type { LineSanitizer, Line } from './sanitize.js';
import { addContextFields, addTraceIds } from './context-fields.js';

/**
 * Per-logger state kept on pino logger instances under symbols. Child
 * loggers are `Object.create(parent)` in pino, so a child that sets nothing
 * reads its parent's values through the prototype chain.
 */
export const BOUND_KEYS: unique symbol = Symbol('stacklight.log.boundKeys');
/** Redacted `extra` contributed by the bindings of this logger and its parents. */
export const BOUND_EXTRA: unique symbol = Symbol('stacklight.log.boundExtra');

/** The fields of a pino logger instance that this module reads. */
export interface LoggerState {
  /** Schema fields set by child bindings (already in pino's serialized bindings). */
  [BOUND_KEYS]?: Readonly<Record<string, true>>;
  [BOUND_EXTRA]?: Line;
}

/**
 * Builds the pino `mixin` that assembles every line object; it runs once per
 * enabled line. Precedence, later wins:
 *
 * 1. the caller's own fields;
 * 2. request/job context fields from `getContext()` that the caller did not
 *    give (nor a child binding, so a bound key is not written twice);
 * 3. `traceId` / `spanId` of the active OpenTelemetry span, when valid and
 *    not given by the caller;
 * 4. everything moved by the schema policy, under `extra`.
 *
 * Copy-on-write: while every caller field is clean (`isClean`: known, right
 * type, nothing to scrub) nothing is copied, and when there is also nothing
 * to add the caller's own object is returned and serialized by pino as is.
 * The caller's object is never mutated. Used with
 * `mixinMergeStrategy: takeMixin` because the mixin already merged.
 */
export function createLineMixin(sanitizer: LineSanitizer) {
  function build(src: Line, logger: LoggerState, guarded: boolean): Line {
    const bound = logger[BOUND_KEYS];
    let out: Line | undefined;
    let moved: Line | undefined;

    const keys = Object.keys(src);
    // One Object.values call instead of a keyed load per key (measurably
    // cheaper); a throwing getter makes it throw, and the caller retries
    // with guarded reads.
    const values = guarded ? undefined : Object.values(src);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const value = values === undefined ? guardedRead(src, key) : values[i];
      if (out === undefined) {
        if (value === undefined || sanitizer.isClean(key, value)) continue;
        out = copyKeys(src, keys, values, i);
      }
      if (value !== undefined) moved = sanitizer.put(out, key, value, moved);
    }

    const ctx = getContext();
    const span = trace.getSpan(context.active());
    let sc = span === undefined || bound?.['traceId'] === true ? undefined : span.spanContext();
    // The all-zero ids mark "no span"; the field rules check the format.
    if (sc !== undefined && (sc.traceId === INVALID_TRACEID || sc.spanId === INVALID_SPANID)) {
      sc = undefined;
    }
    // Something may be added: copy now, so that "did the caller give this
    // key?" is a plain read of our own object (no getter to guard against).
    if (ctx !== undefined || sc !== undefined) out ??= copyKeys(src, keys, values, keys.length);

    if (ctx !== undefined && out !== undefined) {
      moved = addContextFields(out, ctx, bound, sanitizer, moved);
    }
    if (sc !== undefined && out !== undefined && out['traceId'] === undefined) {
      moved = addTraceIds(out, sc.traceId, sc.spanId, sanitizer, moved);
    }

    const inherited = logger[BOUND_EXTRA];
    if (moved !== undefined || inherited !== undefined) {
      out ??= copyKeys(src, keys, values, keys.length);
      sanitizer.finishExtra(out, moved, inherited);
    }
    return out ?? src;
  }

  return function stacklightLine(fields: object, _level: number, logger: unknown): object {
    try {
      // Plain reads first: a try/catch per property read is measurable on
      // the hot path, and a throwing top-level getter is rare.
      return build(fields as Line, logger as LoggerState, false);
    } catch {
      try {
        return build(fields as Line, logger as LoggerState, true);
      } catch {
        // Last resort (a Proxy that throws on ownKeys): the line is still written.
        return { extra: { fields: '[Unserializable]' } };
      }
    }
  };
}

/** Reads one property; a throwing getter reads as a marker. */
function guardedRead(src: Line, key: string): unknown {
  try {
    return src[key];
  } catch {
    return '[GetterThrew]';
  }
}

/**
 * The class of line objects the mixin builds. Instances of a constructor get
 * V8 slack tracking, so the ~10 properties added one by one stay in-object;
 * a `{}` literal has room for 4 and spills the rest, which made pino's
 * serialization of the line measurably slower (~100 ns per line here).
 */
class LineRecord {}

/**
 * Copies the (already checked, clean) keys `[0, end)` of `src`, from the
 * values already read when there are (no getter runs twice).
 */
function copyKeys(
  src: Line,
  keys: readonly string[],
  values: readonly unknown[] | undefined,
  end: number,
): Line {
  const out = new LineRecord() as Line;
  for (let j = 0; j < end; j++) {
    const key = keys[j] as string;
    const value = values === undefined ? guardedRead(src, key) : values[j];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * `mixinMergeStrategy`: the mixin's object already holds the caller's fields.
 * `@opentelemetry/instrumentation-pino` wraps the mixin and adds
 * `trace_id`/`span_id`/`trace_flags` to that object: they are dropped, since
 * the line already carries `traceId`/`spanId` of the same active span, and
 * the schema has no such fields. (A caller's own `trace_id` never gets here
 * as a top-level key: the mixin moves unknown keys under `extra`.)
 */
export function takeMixin(_callerFields: object, mixinObject: object): object {
  const o = mixinObject as Record<string, unknown>;
  if (o['trace_flags'] !== undefined) {
    delete o['trace_id'];
    delete o['span_id'];
    delete o['trace_flags'];
  }
  return o;
}
