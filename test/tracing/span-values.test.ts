/**
 * The light span's attribute and time helpers (`span-values.ts`) against
 * the `@opentelemetry/core` functions they stand in for, input by input:
 * the same result and the same `diag` warnings. The differential test in
 * light-span.test.ts holds whole spans to the SDK's; this one reaches the
 * inputs a span rarely sees (inherited keys, functions, malformed times,
 * a carry of exactly one second).
 */
import { diag, DiagLogLevel, type Attributes } from '@opentelemetry/api';
import {
  addHrTimes,
  hrTime,
  hrTimeDuration,
  isAttributeValue as coreIsAttributeValue,
  isTimeInput as coreIsTimeInput,
  isTimeInputHrTime,
  millisToHrTime,
  sanitizeAttributes as coreSanitize,
} from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addHr,
  checkStartAttributes,
  hrDuration,
  isAttributeValue,
  isHrTime,
  isTimeInput,
  millisToHr,
  performanceToHr,
  sanitizeAttributes,
  warnInvalid,
} from '../../src/tracing/span-values.js';

let warnings: string[] = [];
beforeAll(() => {
  const sink = (level: string) => (message: string) => void warnings.push(`${level}: ${message}`);
  diag.setLogger(
    {
      error: sink('error'),
      warn: sink('warn'),
      info: sink('info'),
      debug: sink('debug'),
      verbose: sink('verbose'),
    },
    { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true },
  );
});
afterAll(() => diag.disable());

/** What `fn` returns and the diag messages it emits. */
function observe<T>(fn: () => T): { result: T; warnings: string[] } {
  warnings = [];
  const result = fn();
  return { result, warnings };
}

const withInvalid = (o: object): object =>
  Object.assign(o, { ok: 'v', bad: {}, mixed: [1, 'a'], '': 'empty key', list: [1, null, 2] });

/** Inputs a caller may hand over as attributes, valid or not. */
function attributeInputs(): Array<[string, unknown]> {
  const fn = Object.assign(() => undefined, { bad: {}, ok: 1 });
  const inherited = Object.create({ bad: {}, inheritedOk: 'x' }) as Record<string, unknown>;
  inherited['own'] = 'y';
  return [
    ['undefined', undefined],
    ['null', null],
    ['a string', 'abc'],
    ['a number', 5],
    ['a function with properties', fn],
    ['an object with inherited keys', inherited],
    ['an array', ['a', {}]],
    ['an object with invalid entries', withInvalid({})],
    ['a null-prototype object', withInvalid(Object.create(null) as object)],
  ];
}

describe('attribute helpers, as @opentelemetry/core', () => {
  it.each(attributeInputs())('sanitizeAttributes(%s): the same copy and warnings', (_, input) => {
    const ours = observe(() => sanitizeAttributes(input));
    const core = observe(() => coreSanitize(input));
    expect(ours).toStrictEqual(core);
  });

  it.each(attributeInputs())('warnInvalid(%s): the warnings of sanitizeAttributes', (_, input) => {
    const ours = observe(() => warnInvalid(input));
    const core = observe(() => coreSanitize(input));
    expect(ours.warnings).toStrictEqual(core.warnings);
  });

  it('copies arrays, so the caller changing theirs changes nothing', () => {
    const list = ['a', 'b'];
    const out = sanitizeAttributes({ list });
    list.push('c');
    expect(out).toStrictEqual({ list: ['a', 'b'] });
  });

  it('isAttributeValue: the same answer for every kind of value', () => {
    const values: unknown[] = [
      undefined,
      null,
      '',
      's',
      0,
      Number.NaN,
      true,
      false,
      1n,
      Symbol('s'),
      {},
      () => undefined,
      new Date(0),
      [],
      [null, undefined],
      ['a', 'b'],
      [1, 2],
      [true, false],
      [null, 'a', undefined, 'b'],
      ['a', 1],
      [1, 'a'],
      [true, 1],
      [{}],
      [[1]],
      [1n],
      [null, {}],
    ];
    for (const value of values) {
      expect([value, isAttributeValue(value)]).toStrictEqual([value, coreIsAttributeValue(value)]);
    }
  });
});

describe('checkStartAttributes', () => {
  it('counts an empty key as invalid, with the warning, among values a span could keep', () => {
    // A sampler may add `''` to the start attributes; the SDK drops it before the span exists.
    const checked = observe(() => checkStartAttributes({ '': 'e', extra: 'x' }, undefined, 100));
    expect(checked).toStrictEqual({ result: 1, warnings: ['warn: Invalid attribute key: '] });
  });

  it('lets a span keep strings, numbers and booleans within both limits: -1 - their count', () => {
    expect(checkStartAttributes({ a: 'x', b: 1, c: true }, undefined, 100)).toBe(-4);
    // exactly at both limits
    expect(checkStartAttributes({ a: 'x', b: 1 }, 2, 1)).toBe(-3);
    expect(checkStartAttributes({}, 0, 1)).toBe(-1);
  });

  it('says 0 (set them one by one) past a limit, or for values the span copies or skips', () => {
    const cases: Array<[Record<string, unknown>, number | undefined, number]> = [
      [{ a: 'x', b: 'y', c: 'z' }, 2, 100],
      [{ a: 'xy' }, undefined, 1],
      [{ a: 'x' }, undefined, 0],
      [{ a: null }, undefined, 100],
      [{ a: undefined }, undefined, 100],
      [{ a: ['x'] }, undefined, 100],
    ];
    for (const [attributes, countLimit, lengthLimit] of cases) {
      const checked = observe(() =>
        checkStartAttributes(attributes as Attributes, countLimit, lengthLimit),
      );
      expect([attributes, checked]).toStrictEqual([attributes, { result: 0, warnings: [] }]);
    }
  });
});

describe('time helpers, as @opentelemetry/core', () => {
  const millis = [0, 1, 999, 1000, 1001.5, 0.0004, 0.0005, 1_765_000_000_123.456, -1, -1500.25];

  it('millisToHr: seconds and rounded nanoseconds', () => {
    for (const m of millis) expect([m, millisToHr(m)]).toStrictEqual([m, millisToHrTime(m)]);
  });

  it('addHr: carries one second when the nanoseconds reach a second, not before', () => {
    const pairs: Array<[[number, number], [number, number]]> = [
      [
        [1, 600_000_000],
        [2, 400_000_000],
      ],
      [
        [1, 600_000_000],
        [2, 399_999_999],
      ],
      [
        [1, 999_999_999],
        [0, 999_999_999],
      ],
      [
        [5, 0],
        [0, 0],
      ],
    ];
    for (const [a, b] of pairs) expect([a, b, addHr(a, b)]).toStrictEqual([a, b, addHrTimes(a, b)]);
    expect(addHr([1, 600_000_000], [2, 400_000_000])).toStrictEqual([4, 0]);
  });

  it('hrDuration: borrows one second when the nanoseconds go negative', () => {
    const pairs: Array<[[number, number], [number, number]]> = [
      [
        [1, 500],
        [2, 400],
      ],
      [
        [1, 500],
        [2, 500],
      ],
      [
        [1, 500],
        [2, 600],
      ],
      [
        [3, 0],
        [1, 0],
      ],
    ];
    for (const [a, b] of pairs) {
      expect([a, b, hrDuration(a, b)]).toStrictEqual([a, b, hrTimeDuration(a, b)]);
    }
  });

  it('performanceToHr: the time origin plus a performance.now() reading', () => {
    for (const m of [0, 12.345678, 999.9999999, 86_400_000.5]) {
      expect([m, performanceToHr(m)]).toStrictEqual([m, hrTime(m)]);
    }
  });

  it('isHrTime and isTimeInput: only two numbers are an HrTime', () => {
    const inputs: unknown[] = [
      [1, 2],
      [0, 0],
      ['1', 2],
      [1, '2'],
      [1],
      [1, 2, 3],
      [],
      { 0: 1, 1: 2, length: 2 },
      5,
      '5',
      new Date(0),
      null,
      undefined,
    ];
    for (const input of inputs) {
      expect([input, isHrTime(input), isTimeInput(input)]).toStrictEqual([
        input,
        isTimeInputHrTime(input),
        coreIsTimeInput(input),
      ]);
    }
  });
});
