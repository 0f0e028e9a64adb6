import {
  LOG_FIELDS,
  TOP_LEVEL_FIELDS,
  type LogFieldDeclarations,
  type LogFieldSpec,
} from './schema.js';

/**
 * How a top-level field is checked at run time. A small integer rather than
 * a closure per field: `LineSanitizer.put` switches on it, which keeps the
 * hot path monomorphic (one closure per field made the call site megamorphic
 * and was measurably slower).
 */
export const FieldCheck = {
  /** Any string; scrubbed. */
  String: 0,
  /** A string matching `pattern` (hex ids); not scrubbed, the pattern proves it clean. */
  Pattern: 1,
  /** One of `enum`. */
  Enum: 2,
  Integer: 3,
  /** A finite number (NaN and ±Infinity would be written as null). */
  Number: 4,
  /** The nested `error` object, built by `serializeError` from any value. */
  Error: 5,
  /** A free-form object, redacted. */
  Object: 6,
  Array: 7,
  /** Written by the logger itself: a caller passing it is a violation. */
  Reserved: 8,
  Boolean: 9,
} as const;

/** One of the values of `FieldCheck`. */
export type FieldCheck = (typeof FieldCheck)[keyof typeof FieldCheck];

/** Run-time form of a top-level field of `LOG_FIELDS`, compiled once at module load. */
export interface FieldRule {
  readonly check: FieldCheck;
  readonly min: number;
  readonly max: number;
  readonly pattern: RegExp | undefined;
  readonly allowed: ReadonlySet<unknown> | undefined;
  /**
   * Last string that matched `pattern`. Lines of one request share their
   * trace id, so the regex runs about once per request, not once per line.
   */
  lastMatch: string;
}

function compile(spec: LogFieldSpec): FieldRule {
  return {
    check: checkOf(spec),
    min: spec.minimum ?? -Infinity,
    max: spec.maximum ?? Infinity,
    pattern: spec.pattern === undefined ? undefined : new RegExp(spec.pattern),
    allowed: spec.enum === undefined ? undefined : new Set<unknown>(spec.enum),
    lastMatch: '',
  };
}

function checkOf(spec: LogFieldSpec): FieldCheck {
  if (spec.source === 'logger') return FieldCheck.Reserved;
  if (spec.ref === 'error' && spec.type === 'object') return FieldCheck.Error;
  switch (spec.type) {
    case 'string':
      if (spec.pattern !== undefined) return FieldCheck.Pattern;
      return spec.enum === undefined ? FieldCheck.String : FieldCheck.Enum;
    case 'integer':
      return FieldCheck.Integer;
    case 'boolean':
      return FieldCheck.Boolean;
    case 'number':
      return FieldCheck.Number;
    case 'array':
      return FieldCheck.Array;
    case 'object':
      return FieldCheck.Object;
  }
}

/** Rules by top-level field name. A `Map`: a miss on `constructor` or `__proto__` finds nothing. */
export const FIELD_RULES: ReadonlyMap<string, FieldRule> = new Map(
  TOP_LEVEL_FIELDS.map((name) => [name, compile(LOG_FIELDS[name])] as const),
);

/** The schema entry of a field the service declared (`logging.fields`). */
export function declaredFieldSpec(type: LogFieldSpec['type']): LogFieldSpec {
  return {
    type,
    required: false,
    source: 'caller',
    description: 'Declared by the service (logging.fields).',
  };
}

/**
 * The rules of one logger: the schema's, plus the service's declared fields
 * (already checked by `checkFieldDeclarations`). Built once at `createLogger`.
 */
export function fieldRulesWith(declared: LogFieldDeclarations): ReadonlyMap<string, FieldRule> {
  const names = Object.keys(declared);
  if (names.length === 0) return FIELD_RULES;
  const rules = new Map(FIELD_RULES);
  for (const name of names) rules.set(name, compile(declaredFieldSpec(declared[name]!)));
  return rules;
}
