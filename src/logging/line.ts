import { context, trace, INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import { getContext } from '../context.js';
import type { LineSanitizer, Line } from './sanitize.js';
import { CONTEXT_FIELDS } from './schema.js';

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
 * Builds the pino `mixin` that assembles every line object. It runs once per
 * enabled line and returns a fresh object (which pino then serializes), so
 * the caller's object is never mutated. Order of precedence, later wins:
 *
 * 1. request/job context fields from `getContext()` (skipped when a child
 *    binding already carries the field, so the binding is not written twice);
 * 2. `traceId` / `spanId` of the active OpenTelemetry span, when valid;
 * 3. the caller's own fields.
 *
 * Every value goes through `LineSanitizer.put` (schema policy + scrubbing).
 * Used with `mixinMergeStrategy: takeMixin` because the mixin already merged.
 */
export function createLineMixin(sanitizer: LineSanitizer) {
  return function stacklightLine(callerFields: object, _level: number, logger: unknown): Line {
    const state = logger as LoggerState;
    const bound = state[BOUND_KEYS];
    const out: Line = {};
    let moved: Line | undefined;

    const ctx = getContext() as Record<string, unknown> | undefined;
    if (ctx !== undefined) {
      for (let i = 0; i < CONTEXT_FIELDS.length; i++) {
        const name = CONTEXT_FIELDS[i] as string;
        const value = ctx[name];
        if (value !== undefined && (bound === undefined || bound[name] !== true)) {
          moved = sanitizer.put(out, name, value, moved);
        }
      }
    }

    const span = trace.getSpan(context.active());
    if (span !== undefined && (bound === undefined || bound['traceId'] !== true)) {
      const sc = span.spanContext();
      // The all-zero ids mark "no span"; the field rules check the format.
      if (sc.traceId !== INVALID_TRACEID && sc.spanId !== INVALID_SPANID) {
        moved = sanitizer.put(out, 'traceId', sc.traceId, moved);
        moved = sanitizer.put(out, 'spanId', sc.spanId, moved);
      }
    }

    moved = sanitizer.putAll(out, callerFields, moved);
    sanitizer.finishExtra(out, moved, state[BOUND_EXTRA]);
    return out;
  };
}

/** `mixinMergeStrategy`: the mixin's object already holds the caller's fields. */
export function takeMixin(_callerFields: object, mixinObject: object): object {
  return mixinObject;
}
