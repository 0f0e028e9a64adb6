/**
 * The run-time schema policy of a log line (`LineSanitizer`), field kind by
 * field kind, on rules built here: what is written as it is, what is
 * scrubbed or redacted, what moves under `extra` and which violation is
 * reported, where the bounds are, and what `isClean` answers for the
 * copy-on-write fast path. The logger's tests hold the same policy on the
 * real schema; this file pins each branch.
 */
import { describe, expect, it } from 'vitest';
import { FieldCheck, type FieldRule } from '../../src/logging/field-rules.js';
import { createRedactor } from '../../src/logging/redact.js';
import { LineSanitizer, type Line, type SchemaViolationKind } from '../../src/logging/sanitize.js';

function rule(check: FieldCheck, extra: Partial<FieldRule> = {}): FieldRule {
  return {
    check,
    min: -Infinity,
    max: Infinity,
    pattern: undefined,
    allowed: undefined,
    lastMatch: '',
    ...extra,
  };
}

function sanitizer(onViolation?: (kind: SchemaViolationKind, field: string) => void): {
  s: LineSanitizer;
  violations: Array<[SchemaViolationKind, string]>;
} {
  const violations: Array<[SchemaViolationKind, string]> = [];
  const rules = new Map<string, FieldRule>([
    ['text', rule(FieldCheck.String)],
    ['hex', rule(FieldCheck.Pattern, { pattern: /^[0-9a-f]{4}$/ })],
    ['count', rule(FieldCheck.Integer, { min: 0, max: 10 })],
    ['ratio', rule(FieldCheck.Number, { min: 0, max: 1 })],
    ['error', rule(FieldCheck.Error)],
    ['ctx', rule(FieldCheck.Object)],
    ['color', rule(FieldCheck.Enum, { allowed: new Set(['red', 'blue']) })],
    ['flag', rule(FieldCheck.Boolean)],
    ['list', rule(FieldCheck.Array)],
    ['ts', rule(FieldCheck.Reserved)],
    ['extra', rule(FieldCheck.Object)],
  ]);
  const s = new LineSanitizer({
    redactor: createRedactor(),
    stackTraces: false,
    onSchemaViolation:
      onViolation ?? ((kind, field) => void violations.push([kind, field] as const)),
    rules,
  });
  return { s, violations };
}

/** Puts each `[key, value]` into a fresh line; the line, what moved, the violations. */
function put(entries: Array<[string, unknown]>): {
  out: Line;
  moved: Line | undefined;
  violations: Array<[SchemaViolationKind, string]>;
} {
  const { s, violations } = sanitizer();
  const out: Line = {};
  let moved: Line | undefined;
  for (const [k, v] of entries) moved = s.put(out, k, v, moved);
  return { out, moved, violations };
}

describe('LineSanitizer.put: values that fit are written', () => {
  it('scrubs strings, keeps pattern matches, bounds and enum members as they are', () => {
    const { out, moved, violations } = put([
      ['text', 'login password=hunter2'],
      ['hex', 'beef'],
      ['count', 0],
      ['ratio', 1],
      ['color', 'blue'],
      ['flag', false],
    ]);
    expect(out).toStrictEqual({
      text: 'login password=[REDACTED]',
      hex: 'beef',
      count: 0,
      ratio: 1,
      color: 'blue',
      flag: false,
    });
    expect(moved).toBeUndefined();
    expect(violations).toEqual([]);
  });

  it('takes both ends of each range', () => {
    expect(put([['count', 10]]).out).toStrictEqual({ count: 10 });
    expect(put([['ratio', 0]]).out).toStrictEqual({ ratio: 0 });
    expect(put([['ratio', 0.5]]).out).toStrictEqual({ ratio: 0.5 });
  });

  it('redacts objects and arrays', () => {
    const { out, moved } = put([
      ['ctx', { user: 'ann', token: 't1' }],
      ['list', ['ok', 'password=pw', { secret: 's' }]],
    ]);
    expect(out).toStrictEqual({
      ctx: { user: 'ann', token: '[REDACTED]' },
      list: ['ok', 'password=[REDACTED]', { secret: '[REDACTED]' }],
    });
    expect(moved).toBeUndefined();
  });

  it('serializes an error under `error`, and a second one under extra', () => {
    const { out, moved } = put([
      ['error', new Error('first password=pw')],
      ['err', new TypeError('second')],
    ]);
    expect(out).toStrictEqual({ error: { type: 'Error', message: 'first password=[REDACTED]' } });
    expect(moved).toStrictEqual({ err: { type: 'TypeError', message: 'second' } });
    const alone = put([['err', 'a string thrown']]);
    expect(alone.out).toStrictEqual({ error: { message: 'a string thrown' } });
    expect(alone.moved).toBeUndefined();
    // Anything thrown fits `error`: a string is serialized, not moved.
    const thrown = put([['error', 'thrown password=pw']]);
    expect(thrown.out).toStrictEqual({ error: { message: 'thrown password=[REDACTED]' } });
    expect(thrown.moved).toBeUndefined();
    expect(thrown.violations).toEqual([]);
  });

  it('remembers the last pattern match, and still checks the next string', () => {
    const { s } = sanitizer();
    const out: Line = {};
    expect(s.put(out, 'hex', 'cafe', undefined)).toBeUndefined();
    expect(s.put(out, 'hex', 'cafe', undefined)).toBeUndefined();
    expect(s.put(out, 'hex', 'zzzz', undefined)).toStrictEqual({ hex: 'zzzz' });
    expect(s.put(out, 'hex', 'cafe', undefined)).toBeUndefined();
    expect(out).toStrictEqual({ hex: 'cafe' });
  });
});

describe('LineSanitizer.put: values that do not fit move under extra, unchanged', () => {
  const wrong: Array<[string, unknown]> = [
    ['text', 200],
    ['hex', 'BEEF'],
    ['hex', 4],
    // not a string, though the pattern would match its text
    ['hex', ['beef']],
    ['count', -1],
    ['count', 11],
    ['count', 1.5],
    ['count', '5'],
    ['ratio', -0.1],
    ['ratio', 1.1],
    ['ratio', Number.NaN],
    ['ratio', Infinity],
    ['ratio', '0.5'],
    ['ctx', null],
    ['ctx', ['a']],
    ['ctx', 'text'],
    ['color', 'green'],
    ['color', 1],
    ['flag', 'true'],
    ['flag', 0],
    ['list', { 0: 'a' }],
    ['list', 'a,b'],
  ];

  it.each(wrong)('moves %s = %j as a wrong type', (key, value) => {
    const { out, moved, violations } = put([[key, value]]);
    expect(out).toStrictEqual({});
    expect(moved).toStrictEqual({ [key]: value });
    expect(violations).toEqual([['wrong_type', key]]);
  });

  it('moves reserved and unknown fields, each reported once, into one object', () => {
    const { out, moved, violations } = put([
      ['ts', 'yesterday'],
      ['nope', { a: 1 }],
      ['count', 99],
    ]);
    expect(out).toStrictEqual({});
    expect(moved).toStrictEqual({ ts: 'yesterday', nope: { a: 1 }, count: 99 });
    expect(violations).toEqual([
      ['reserved_field', 'ts'],
      ['unknown_field', 'nope'],
      ['wrong_type', 'count'],
    ]);
  });

  it('keeps the line when the violation hook throws, or when there is none', () => {
    const throwing = sanitizer(() => {
      throw new Error('hook down');
    }).s;
    const out: Line = {};
    expect(throwing.put(out, 'count', 'x', undefined)).toStrictEqual({ count: 'x' });
    const quiet = new LineSanitizer({
      redactor: createRedactor(),
      stackTraces: false,
      onSchemaViolation: undefined,
    });
    expect(quiet.put({}, 'no_such_field_here', 1, undefined)).toStrictEqual({
      no_such_field_here: 1,
    });
  });
});

describe('LineSanitizer.isClean', () => {
  const { s } = sanitizer();

  it('says yes only for a value put would write unchanged', () => {
    const clean: Array<[string, unknown]> = [
      ['text', 'plain words'],
      ['hex', 'abcd'],
      ['count', 10],
      ['count', 0],
      ['ratio', 1],
      ['ratio', 0],
      ['color', 'red'],
      ['flag', true],
      ['ctx', { user: 'ann' }],
      ['list', ['a', 1]],
    ];
    for (const [k, v] of clean) expect([k, v, s.isClean(k, v)]).toEqual([k, v, true]);
  });

  it('says no for what put would change, move or build', () => {
    const dirty: Array<[string, unknown]> = [
      ['text', 'password=pw'],
      ['text', 5],
      ['hex', 'abcz'],
      ['hex', 5],
      ['hex', ['abcd']],
      ['count', 11],
      ['count', -1],
      ['count', 2.5],
      ['ratio', 1.5],
      ['ratio', -1],
      ['ratio', Number.NaN],
      ['color', 'green'],
      ['flag', 'yes'],
      ['ctx', { token: 't' }],
      ['ctx', null],
      ['ctx', []],
      ['list', ['password=pw']],
      ['list', 'a'],
      ['error', new Error('x')],
      ['ts', 'now'],
      ['unknown', 'x'],
    ];
    for (const [k, v] of dirty) expect([k, v, s.isClean(k, v)]).toEqual([k, v, false]);
  });
});

describe('LineSanitizer.putAll and finishExtra', () => {
  it('puts own enumerable keys, skips undefined and inherited ones, marks getters that throw', () => {
    const { s, violations } = sanitizer();
    const proto = { text: 'inherited' };
    const src = Object.create(proto) as Record<string, unknown>;
    src['count'] = 3;
    src['flag'] = undefined;
    Object.defineProperty(src, 'color', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    Object.defineProperty(src, 'hidden', { enumerable: false, value: 1 });
    const out: Line = {};
    const moved = s.putAll(out, src, undefined);
    expect(out).toStrictEqual({ count: 3 });
    expect(moved).toStrictEqual({ color: '[GetterThrew]' });
    expect(violations).toEqual([['wrong_type', 'color']]);
  });

  it('puts a key named "undefined" once', () => {
    const { s, violations } = sanitizer();
    const out: Line = {};
    expect(s.putAll(out, { undefined: 'x' }, undefined)).toStrictEqual({ undefined: 'x' });
    expect(violations).toEqual([['unknown_field', 'undefined']]);
  });

  it('merges extras: inherited, then the caller’s own, then what moved (redacted)', () => {
    const { s } = sanitizer();
    const out: Line = { extra: { a: 'own', b: 'own' } };
    s.finishExtra(out, { b: 'moved', token: 't' }, { a: 'inherited', c: 'inherited' });
    expect(out).toStrictEqual({
      extra: { a: 'own', b: 'moved', c: 'inherited', token: '[REDACTED]' },
    });
  });

  it('writes moved keys alone as extra, and leaves a line with nothing to merge alone', () => {
    const { s } = sanitizer();
    const alone: Line = {};
    s.finishExtra(alone, { password: 'pw', n: 1 }, undefined);
    expect(alone).toStrictEqual({ extra: { password: '[REDACTED]', n: 1 } });
    const inheritedOnly: Line = {};
    s.finishExtra(inheritedOnly, undefined, { a: 1 });
    expect(inheritedOnly).toStrictEqual({ extra: { a: 1 } });
    const nothing: Line = { text: 'x' };
    s.finishExtra(nothing, undefined, undefined);
    expect(nothing).toStrictEqual({ text: 'x' });
  });
});
