import { FIELD_RULES, FieldCheck, type FieldRule } from './field-rules.js';
import type { Redactor } from './redact.js';
import { MARKERS } from './scrub.js';
import { setOwn } from './values.js';
import { serializeError } from './serialize-error.js';

/**
 * What a schema violation was:
 * - `unknown_field`: a key that is not in `LOG_FIELDS` nor declared by the
 *   service (`logging.fields`);
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
  /** Rules by field name: the schema's and the declared fields' (`fieldRulesWith`). @default FIELD_RULES */
  rules?: ReadonlyMap<string, FieldRule>;
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
  // Plain (TypeScript-private) fields rather than #private ones: this is the
  // per-line hot path and #private access adds a brand check per read.
  private readonly redactor: Redactor;
  /** The redactor's string scrubber, for callers that write named fields themselves. */
  readonly scrub: (s: string) => string;
  private readonly stackTraces: boolean;
  private readonly onViolation: SanitizerOptions['onSchemaViolation'];
  private readonly rules: ReadonlyMap<string, FieldRule>;

  constructor(options: SanitizerOptions) {
    this.rules = options.rules ?? FIELD_RULES;
    this.redactor = options.redactor;
    this.scrub = options.redactor.redactString;
    this.stackTraces = options.stackTraces;
    this.onViolation = options.onSchemaViolation;
  }

  /**
   * Writes `key: value` into `out` or, when it breaks the schema, into
   * `moved` (allocated on first use and returned). Hot path: one rule lookup,
   * one type check, one scrub for strings.
   */
  put(out: Line, key: string, value: unknown, moved: Line | undefined): Line | undefined {
    const rule = this.rules.get(key);
    if (rule === undefined) {
      if (key === 'err') return this.putError(out, key, value, moved);
      this.violation('unknown_field', key);
      return move(moved, key, value);
    }
    switch (rule.check) {
      case FieldCheck.String:
        if (typeof value === 'string') {
          out[key] = this.scrub(value);
          return moved;
        }
        break;
      case FieldCheck.Pattern:
        if (typeof value === 'string' && (value === rule.lastMatch || matches(rule, value))) {
          out[key] = value;
          return moved;
        }
        break;
      case FieldCheck.Integer:
        if (
          Number.isInteger(value) &&
          (value as number) >= rule.min &&
          (value as number) <= rule.max
        ) {
          out[key] = value;
          return moved;
        }
        break;
      case FieldCheck.Number:
        if (
          Number.isFinite(value) &&
          (value as number) >= rule.min &&
          (value as number) <= rule.max
        ) {
          out[key] = value;
          return moved;
        }
        break;
      case FieldCheck.Error:
        return this.putError(out, key, value, moved);
      case FieldCheck.Object:
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
          out[key] = this.redactor.redactValue(value);
          return moved;
        }
        break;
      case FieldCheck.Enum:
        if (rule.allowed?.has(value) === true) {
          out[key] = value;
          return moved;
        }
        break;
      case FieldCheck.Boolean:
        if (typeof value === 'boolean') {
          out[key] = value;
          return moved;
        }
        break;
      case FieldCheck.Array:
        if (Array.isArray(value)) {
          out[key] = this.redactor.redactValue(value);
          return moved;
        }
        break;
      case FieldCheck.Reserved:
        this.violation('reserved_field', key);
        return move(moved, key, value);
    }
    this.violation('wrong_type', key);
    return move(moved, key, value);
  }

  /**
   * Whether `put` would write `value` unchanged under `key`, with no
   * violation: the test of the copy-on-write fast path. Errors, reserved and
   * unknown keys are never clean; objects are clean when the redactor
   * returns them as they are.
   */
  isClean(key: string, value: unknown): boolean {
    const rule = this.rules.get(key);
    if (rule === undefined) return false;
    switch (rule.check) {
      case FieldCheck.String:
        return typeof value === 'string' && this.scrub(value) === value;
      case FieldCheck.Pattern:
        return typeof value === 'string' && (value === rule.lastMatch || matches(rule, value));
      case FieldCheck.Integer:
        return (
          Number.isInteger(value) && (value as number) >= rule.min && (value as number) <= rule.max
        );
      case FieldCheck.Number:
        return (
          Number.isFinite(value) && (value as number) >= rule.min && (value as number) <= rule.max
        );
      case FieldCheck.Enum:
        return rule.allowed?.has(value) === true;
      case FieldCheck.Boolean:
        return typeof value === 'boolean';
      case FieldCheck.Object:
        return (
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          this.redactor.redactValue(value) === value
        );
      case FieldCheck.Array:
        return Array.isArray(value) && this.redactor.redactValue(value) === value;
      default:
        return false;
    }
  }

  /**
   * Puts the own enumerable keys of `src` into `out`; returns the moved
   * ones. Used for call arguments and child bindings.
   */
  putAll(out: Line, src: object, moved: Line | undefined): Line | undefined {
    // Object.keys rather than for-in + hasOwnProperty: it uses V8's enum
    // cache and skips inherited keys in one step.
    const keys = Object.keys(src);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      let value: unknown;
      try {
        value = (src as Line)[key];
      } catch {
        value = MARKERS.getterThrew;
      }
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
    const redactedMoved =
      moved === undefined ? undefined : (this.redactor.redactValue(moved) as Line);
    if (own === undefined && inherited === undefined) {
      out['extra'] = redactedMoved;
      return;
    }
    out['extra'] = { ...inherited, ...own, ...redactedMoved };
  }

  private putError(
    out: Line,
    key: string,
    value: unknown,
    moved: Line | undefined,
  ): Line | undefined {
    const serialized = serializeError(value, { redactor: this.redactor, stack: this.stackTraces });
    if (out['error'] === undefined) {
      out['error'] = serialized;
      return moved;
    }
    // `err` and `error` both given: keep both, the second under extra.
    const m = moved ?? {};
    m[key] = serialized;
    return m;
  }

  private violation(kind: SchemaViolationKind, field: string): void {
    const hook = this.onViolation;
    if (hook === undefined) return;
    try {
      hook(kind, field);
    } catch {
      // A failing counter hook must not cost the log line.
    }
  }
}

function matches(rule: FieldRule, value: string): boolean {
  if (rule.pattern?.test(value) !== true) return false;
  rule.lastMatch = value;
  return true;
}

function move(moved: Line | undefined, key: string, value: unknown): Line {
  const m = moved ?? {};
  setOwn(m, key, value);
  return m;
}
