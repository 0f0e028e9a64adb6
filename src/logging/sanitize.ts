import { FIELD_RULES } from './field-rules.js';
import type { Redactor } from './redact.js';
import { serializeError } from './serialize-error.js';

/**
 * What a schema violation was:
 * - `unknown_field`: a key that is not in `LOG_FIELDS`;
 * - `wrong_type`: a known field whose value does not have the schema's type
 *   or bounds (`status: '200'`, `latency_ms: NaN`, a malformed `traceId`);
 * - `reserved_field`: a field the logger writes itself (`ts`, `level`,
 *   `service`, `env`, `region`, `version`) passed by the caller.
 */
export type SchemaViolationKind = 'unknown_field' | 'wrong_type' | 'reserved_field';

/** Options of `LineSanitizer`. */
export interface SanitizerOptions {
  redactor: Redactor;
  stackTraces: boolean;
  onSchemaViolation: ((kind: SchemaViolationKind, field: string) => void) | undefined;
}

/** A log line object under construction. */
export type Line = Record<string, unknown>;

/**
 * Run-time schema policy of a log line. It never throws and never drops a
 * line or a value:
 *
 * - a known field with the right type is written as is (strings scrubbed);
 * - an unknown key, a known field with the wrong type, or a reserved field is
 *   moved, unchanged and uncoerced, under `extra` (so `status: '200'` is
 *   written as `"extra":{"status":"200"}`), and
 *   `onSchemaViolation(kind, key)` is called once for it;
 * - `extra` itself is free-form but goes through the redactor like
 *   everything else;
 * - `err` and `error` (any thrown value) become the nested `error` object
 *   (`serializeError`); when both are given, `error` is written and `err`
 *   goes to `extra.err`, serialized the same way.
 *
 * So every line the logger writes validates against `log-schema.json`.
 */
export class LineSanitizer {
  readonly #redactor: Redactor;
  readonly #stackTraces: boolean;
  readonly #onViolation: SanitizerOptions['onSchemaViolation'];

  constructor(options: SanitizerOptions) {
    this.#redactor = options.redactor;
    this.#stackTraces = options.stackTraces;
    this.#onViolation = options.onSchemaViolation;
  }

  /**
   * Writes `key: value` into `out` or, when it breaks the schema, into
   * `moved` (allocated on first use and returned). Hot path: one rule lookup,
   * one type check, one scrub for strings.
   */
  put(out: Line, key: string, value: unknown, moved: Line | undefined): Line | undefined {
    const rule = FIELD_RULES[key];
    if (rule === undefined) {
      if (key === 'err') return this.#putError(out, key, value, moved);
      this.#violation('unknown_field', key);
      return move(moved, key, value);
    }
    if (rule.reserved) {
      this.#violation('reserved_field', key);
      return move(moved, key, value);
    }
    if (typeof value === 'string') {
      if (rule.conforms(value)) {
        out[key] = rule.skipScrub ? value : this.#redactor.redactString(value);
        return moved;
      }
    } else if (key === 'error') {
      return this.#putError(out, key, value, moved);
    } else if (rule.conforms(value)) {
      out[key] = key === 'extra' ? this.#redactor.redactValue(value) : value;
      return moved;
    }
    this.#violation('wrong_type', key);
    return move(moved, key, value);
  }

  /**
   * Puts the own enumerable keys of `src` into `out`; returns the moved
   * ones. Used for call arguments and child bindings.
   */
  putAll(out: Line, src: object, moved: Line | undefined): Line | undefined {
    for (const key in src) {
      if (!Object.prototype.hasOwnProperty.call(src, key)) continue;
      const value = (src as Line)[key];
      if (value !== undefined) moved = this.put(out, key, value, moved);
    }
    return moved;
  }

  /**
   * Merges what was moved into `out.extra`. Precedence (later wins):
   * inherited child-binding extras, the caller's own `extra`, moved keys.
   * `inherited` is already redacted; the rest is redacted here.
   */
  finishExtra(out: Line, moved: Line | undefined, inherited: Line | undefined): void {
    if (moved === undefined && inherited === undefined) return;
    const own = out['extra'] as Line | undefined;
    const redactedMoved = moved === undefined ? undefined : (this.#redactor.redactValue(moved) as Line);
    if (own === undefined && inherited === undefined) {
      out['extra'] = redactedMoved;
      return;
    }
    out['extra'] = { ...inherited, ...own, ...redactedMoved };
  }

  #putError(out: Line, key: string, value: unknown, moved: Line | undefined): Line | undefined {
    const serialized = serializeError(value, { redactor: this.#redactor, stack: this.#stackTraces });
    if (out['error'] === undefined) {
      out['error'] = serialized;
      return moved;
    }
    // `err` and `error` both given: keep both, the second under extra.
    const m = moved ?? {};
    m[key] = serialized;
    return m;
  }

  #violation(kind: SchemaViolationKind, field: string): void {
    const hook = this.#onViolation;
    if (hook === undefined) return;
    try {
      hook(kind, field);
    } catch {
      // A failing counter hook must not cost the log line.
    }
  }
}

function move(moved: Line | undefined, key: string, value: unknown): Line {
  const m = moved ?? {};
  if (key === '__proto__') {
    Object.defineProperty(m, key, { value, enumerable: true, writable: true, configurable: true });
  } else m[key] = value;
  return m;
}
