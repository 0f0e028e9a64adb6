import { describe, expect, it } from 'vitest';
import {
  formatTraceParent,
  isValidSpanId,
  isValidTraceId,
  parseTraceParent,
  type TraceParent,
} from '../../src/tracing/index.js';
import { SPAN_ID, TRACE_ID } from './harness.js';

const T = TRACE_ID;
const S = SPAN_ID;
// The official W3C test-suite ids.
const T2 = '12345678901234567890123456789012';
const S2 = '1234567890123456';

const ok = (version: number, traceFlags: number, traceId = T, spanId = S): TraceParent => ({
  version,
  traceId,
  spanId,
  traceFlags,
});

/** [description, input, expected parse result or undefined for rejection] */
const cases: Array<[string, unknown, TraceParent | undefined]> = [
  // valid, version 00
  ['spec example, sampled', `00-${T}-${S}-01`, ok(0, 1)],
  ['spec example, not sampled', `00-${T}-${S}-00`, ok(0, 0)],
  ['W3C suite ids', `00-${T2}-${S2}-01`, ok(0, 1, T2, S2)],
  [
    'trace-id with a single non-zero digit',
    `00-${'0'.repeat(31)}1-${S}-01`,
    ok(0, 1, '0'.repeat(31) + '1'),
  ],
  [
    'parent-id with a single non-zero digit',
    `00-${T}-${'0'.repeat(15)}1-00`,
    ok(0, 0, T, '0'.repeat(15) + '1'),
  ],
  ['unknown flag bits are cleared (ff)', `00-${T}-${S}-ff`, ok(0, 3)],
  ['Level 2 random flag is kept (02)', `00-${T}-${S}-02`, ok(0, 2)],
  ['sampled and random (03)', `00-${T}-${S}-03`, ok(0, 3)],
  ['sampled read through the mask (09)', `00-${T}-${S}-09`, ok(0, 1)],
  // OWS around the value (W3C suite test_traceparent_ows_handling)
  ['leading space', ` 00-${T}-${S}-01`, ok(0, 1)],
  ['leading tab', `\t00-${T}-${S}-01`, ok(0, 1)],
  ['trailing space', `00-${T}-${S}-01 `, ok(0, 1)],
  ['trailing tab', `00-${T}-${S}-01\t`, ok(0, 1)],
  ['mixed OWS both sides', `\t 00-${T}-${S}-01 \t`, ok(0, 1)],
  ['a megabyte of trailing OWS', `00-${T}-${S}-01${' '.repeat(1_000_000)}`, ok(0, 1)],
  // future versions
  ['future version, exactly 55 chars', `cc-${T2}-${S2}-01`, ok(0xcc, 1, T2, S2)],
  [
    'future version with extra fields',
    `cc-${T2}-${S2}-01-what-the-future-will-be-like`,
    ok(0xcc, 1, T2, S2),
  ],
  ['future version with an empty extra field', `01-${T}-${S}-00-`, ok(1, 0)],
  ['highest valid version fe', `fe-${T}-${S}-01`, ok(0xfe, 1)],
  ['future version clears unknown flags', `42-${T}-${S}-07`, ok(0x42, 3)],
  [
    'future version, megabyte of extra fields is not scanned',
    `cc-${T}-${S}-01-${'x'.repeat(1_000_000)}`,
    ok(0xcc, 1),
  ],

  // invalid: version
  ['version ff', `ff-${T}-${S}-01`, undefined],
  ['underscore instead of the dash after the version', `00_${T}-${S}-01`, undefined],
  ['underscore instead of the dash after the trace-id', `00-${T}_${S}-01`, undefined],
  ['underscore instead of the dash after the parent-id', `00-${T}-${S}_01`, undefined],
  ['uppercase version FF', `FF-${T}-${S}-01`, undefined],
  ['uppercase future version CC', `CC-${T}-${S}-01`, undefined],
  ['version with illegal char .0', `.0-${T}-${S}-01`, undefined],
  ['version with illegal char 0.', `0.-${T}-${S}-01`, undefined],
  ['version too short', `0-${T}-${S}-01`, undefined],
  ['version too long (3)', `000-${T}-${S}-01`, undefined],
  ['version too long (4)', `0000-${T}-${S}-01`, undefined],
  // invalid: version 00 length
  ['version 00 with a trailing dot', `00-${T2}-${S2}-01.`, undefined],
  ['version 00 with extra fields', `00-${T2}-${S2}-01-what-the-future-will-be-like`, undefined],
  ['version 00 with a trailing dash', `00-${T}-${S}-01-`, undefined],
  // invalid: future versions
  [
    'future version, char 55 is not a dash',
    `cc-${T2}-${S2}-01.what-the-future-will-be-like`,
    undefined,
  ],
  ['future version shorter than 55', `cc-${T}-${S}-0`, undefined],
  ['future version with uppercase trace-id', `cc-${T.toUpperCase()}-${S}-01`, undefined],
  ['future version with all-zero trace-id', `cc-${'0'.repeat(32)}-${S}-01-x`, undefined],
  // invalid: trace-id
  ['all-zero trace-id', `00-${'0'.repeat(32)}-${S}-01`, undefined],
  ['uppercase trace-id', `00-${T.toUpperCase()}-${S}-01`, undefined],
  ['one uppercase hex digit in trace-id', `00-4BF92f3577b34da6a3ce929d0e0e4736-${S}-01`, undefined],
  ['illegal leading char in trace-id', `00-.2345678901234567890123456789012-${S2}-01`, undefined],
  ['illegal trailing char in trace-id', `00-1234567890123456789012345678901.-${S2}-01`, undefined],
  ['non-hex g in trace-id', `00-g${T.slice(1)}-${S}-01`, undefined],
  // characters between `9` and `a` (`:` … `` ` ``, uppercase among them) are not hex
  ['underscore in trace-id', `00-${T.slice(0, 31)}_-${S}-01`, undefined],
  ['backtick in parent-id', `00-${T}-${S.slice(0, 15)}\`-01`, undefined],
  ['uppercase X in flags', `00-${T}-${S}-0X`, undefined],
  ['trace-id 31 chars', `00-${T.slice(1)}-${S}-01`, undefined],
  ['trace-id 33 chars', `00-${T}a-${S}-01`, undefined],
  // invalid: parent-id
  ['all-zero parent-id', `00-${T2}-${'0'.repeat(16)}-01`, undefined],
  ['uppercase parent-id', `00-${T}-${S.toUpperCase()}-01`, undefined],
  ['illegal char in parent-id', `00-${T2}-.234567890123456-01`, undefined],
  ['parent-id 15 chars', `00-${T2}-123456789012345-01`, undefined],
  ['parent-id 17 chars', `00-${T2}-12345678901234567-01`, undefined],
  // invalid: flags
  ['illegal char in flags .0', `00-${T2}-${S2}-.0`, undefined],
  ['illegal char in flags 0.', `00-${T2}-${S2}-0.`, undefined],
  ['uppercase flags 0A', `00-${T}-${S}-0A`, undefined],
  ['flags 1 char', `00-${T2}-${S2}-1`, undefined],
  ['flags 3 chars', `00-${T2}-${S2}-001`, undefined],
  // invalid: dashes
  ['missing first dash', `00${T}-${S}-01-`, undefined],
  ['missing dash between ids', `00-${T}${S}-01-`, undefined],
  ['missing last dash', `00-${T}-${S}01-`, undefined],
  ['underscore delimiters', `00_${T}_${S}_01`, undefined],
  ['extra leading dash', `-00-${T}-${S}-01`.slice(0, 55), undefined],
  ['double dash', `00--${T}-${S}-01`.slice(0, 55), undefined],
  // invalid: whitespace and control characters
  ['empty string', '', undefined],
  ['OWS only', ' \t ', undefined],
  ['space inside the value', `00- ${T}-${S}-0`, undefined],
  ['trailing newline is not OWS', `00-${T}-${S}-01\n`, undefined],
  ['leading CR is not OWS', `\r00-${T}-${S}-01`, undefined],
  ['leading NBSP is not OWS', `\u00a000-${T}-${S}-01`, undefined],
  ['NUL inside', `00-${T}-${S}\u000001`, undefined],
  ['fullwidth digits', `００-${T}-${S}-01`, undefined],
  // invalid: not a string
  ['undefined', undefined, undefined],
  ['null', null, undefined],
  ['number', 42, undefined],
  ['array of one valid value', [`00-${T}-${S}-01`], undefined],
  ['object', { toString: () => `00-${T}-${S}-01` }, undefined],
  ['a megabyte of garbage', 'x'.repeat(1_000_000), undefined],
];

describe('parseTraceParent conformance', () => {
  it('has a substantial table', () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  it.each(cases)('%s', (_name, input, expected) => {
    expect(parseTraceParent(input)).toEqual(expected);
  });
});

describe('formatTraceParent', () => {
  it('writes version 00 with the sampled flag', () => {
    expect(formatTraceParent(T, S, 1)).toBe(`00-${T}-${S}-01`);
    expect(formatTraceParent(T, S, 0)).toBe(`00-${T}-${S}-00`);
  });

  it('writes only the sampled and random bits, whatever else is set', () => {
    expect(formatTraceParent(T, S, 0xff)).toBe(`00-${T}-${S}-03`);
    expect(formatTraceParent(T, S, 0x02)).toBe(`00-${T}-${S}-02`);
    expect(formatTraceParent(T, S, 0xfd)).toBe(`00-${T}-${S}-01`);
  });

  it('re-emits a future version as version 00', () => {
    const parsed = parseTraceParent(`cc-${T}-${S}-01-extra`)!;
    expect(formatTraceParent(parsed.traceId, parsed.spanId, parsed.traceFlags)).toBe(
      `00-${T}-${S}-01`,
    );
  });

  it('round-trips through parseTraceParent', () => {
    const value = `00-${T2}-${S2}-00`;
    const parsed = parseTraceParent(value)!;
    expect(formatTraceParent(parsed.traceId, parsed.spanId, parsed.traceFlags)).toBe(value);
  });
});

describe('id validators', () => {
  it.each([
    [T, true],
    ['0'.repeat(32), false],
    [T.toUpperCase(), false],
    [T.slice(1), false],
    [T + '0', false],
    [42, false],
    [{ length: 32 }, false],
  ])('isValidTraceId(%j) is %s', (id, valid) => {
    expect(isValidTraceId(id)).toBe(valid);
  });

  it.each([
    [S, true],
    ['0'.repeat(16), false],
    [S.toUpperCase(), false],
    [S.slice(1), false],
    [S + '0', false],
    [Array.from({ length: 16 }, () => 'a'), false],
    [undefined, false],
  ])('isValidSpanId(%j) is %s', (id, valid) => {
    expect(isValidSpanId(id)).toBe(valid);
  });
});
