import { LOG_FIELDS, TOP_LEVEL_FIELDS, type LogFieldSpec } from './schema.js';

/**
 * Run-time form of a top-level field of `LOG_FIELDS`, compiled once at module
 * load so that checking a value on the hot path is one property lookup and a
 * few comparisons.
 */
export interface FieldRule {
  readonly name: string;
  /** Written by the logger itself; a caller passing it is a violation. */
  readonly reserved: boolean;
  /**
   * Strings of this field need no scrubbing because the pattern proves they
   * hold nothing secret (hex trace ids).
   */
  readonly skipScrub: boolean;
  /** Whether `value` has the JSON type and bounds of the schema. */
  readonly conforms: (value: unknown) => boolean;
}

function compile(name: string, spec: LogFieldSpec): FieldRule {
  return {
    name,
    reserved: spec.source === 'logger',
    skipScrub: spec.pattern !== undefined,
    conforms: conformsTo(spec),
  };
}

function conformsTo(spec: LogFieldSpec): (value: unknown) => boolean {
  const min = spec.minimum ?? -Infinity;
  const max = spec.maximum ?? Infinity;
  switch (spec.type) {
    case 'string': {
      if (spec.pattern !== undefined) {
        const re = new RegExp(spec.pattern);
        // One-entry memo: lines of one request share its trace id, so the
        // regex runs once per request rather than once per line.
        let last = '';
        return (v) => {
          if (typeof v !== 'string') return false;
          if (v === last) return true;
          if (!re.test(v)) return false;
          last = v;
          return true;
        };
      }
      if (spec.enum !== undefined) {
        const allowed = new Set<unknown>(spec.enum);
        return (v) => allowed.has(v);
      }
      return (v) => typeof v === 'string';
    }
    case 'integer':
      return (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
    case 'number':
      // NaN and ±Infinity would be written as null by JSON: not a number.
      return (v) => Number.isFinite(v) && (v as number) >= min && (v as number) <= max;
    case 'array':
      return (v) => Array.isArray(v);
    case 'object':
      return (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  }
}

/**
 * Rules by field name. A null-prototype object rather than a `Map`: keys are
 * short literal strings, and a miss on an unknown key must not find
 * `constructor` or `__proto__`.
 */
export const FIELD_RULES: Readonly<Record<string, FieldRule | undefined>> = (() => {
  const rules: Record<string, FieldRule> = Object.create(null) as Record<string, FieldRule>;
  for (const name of TOP_LEVEL_FIELDS) rules[name] = compile(name, LOG_FIELDS[name]);
  return Object.freeze(rules);
})();
