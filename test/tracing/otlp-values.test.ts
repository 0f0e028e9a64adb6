/**
 * Every kind of value a span carries to the backend, as stacklight's OTLP
 * encoder writes it: attribute values of each `AnyValue` kind (strings of
 * every UTF-8 width, booleans, integers to the int64 bounds, doubles, NaN
 * and infinities, arrays, key-value lists, bytes), the dropped counts,
 * events, links, status, span kinds, trace flags, parents, the resource and
 * the instrumentation scopes. Each case is read back with its value kind
 * kept (an integer 3 and a double 3 differ) and compared with what a user
 * would expect and with what OpenTelemetry's own OTLP serializer writes for
 * the very same spans.
 */
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type HrTime,
  type Link,
  type SpanContext,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  type ReadableSpan,
  type SpanLimits,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { SpanEncoder, writeSpan } from '../../src/tracing/otlp/encode.js';
import { ProtoWriter } from '../../src/tracing/otlp/proto-writer.js';
import {
  collectEnded,
  decodeExportTraceServiceRequest,
  type OtlpSpan,
} from '../helpers/otlp-receiver.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

/** Spans ended by `run` on a provider with these limits, resource and scope. */
function sdkSpans(
  run: (p: BasicTracerProvider) => void,
  options: { limits?: SpanLimits; resource?: Attributes; schemaUrl?: string } = {},
): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const resource = resourceFromAttributes(
    options.resource ?? { 'service.name': 'values' },
    options.schemaUrl === undefined ? {} : { schemaUrl: options.schemaUrl },
  );
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: [collectEnded(ended)],
    ...(options.limits === undefined ? {} : { spanLimits: options.limits }),
  });
  run(provider);
  return ended;
}

/** One span named `name` with these attributes, ended. */
function spanWith(attributes: Attributes, limits?: SpanLimits): ReadableSpan {
  const [span] = sdkSpans(
    (p) => p.getTracer('values').startSpan('attributes', { attributes }).end(),
    limits === undefined ? {} : { limits },
  );
  return span!;
}

/** stacklight's request for `spans`, each encoded as it ends, decoded with value kinds. */
function ours(spans: readonly ReadableSpan[]): OtlpSpan[] {
  const encoder = new SpanEncoder();
  const body = encoder.request(spans.map((s) => encoder.encode(s)));
  return decodeExportTraceServiceRequest(body, { typed: true });
}

/** OpenTelemetry's request for the same spans, decoded the same way. */
function theirs(spans: readonly ReadableSpan[]): OtlpSpan[] {
  const body = ProtobufTraceSerializer.serializeRequest([...spans])!;
  return decodeExportTraceServiceRequest(body, { typed: true });
}

/** Both, checked equal; stacklight's. */
function encoded(spans: readonly ReadableSpan[]): OtlpSpan[] {
  const mine = ours(spans);
  expect(mine).toEqual(theirs(spans));
  return mine;
}

const int = (v: number | bigint) => ({ int: BigInt(v) });
const double = (v: number) => ({ double: v });
const str = (v: string) => ({ string: v });
const bool = (v: boolean) => ({ bool: v });

/** A span as a hand-made `ReadableSpan` (for what the SDK never produces), over an SDK span's fields. */
function handMade(overrides: Partial<ReadableSpan> & { context?: Partial<SpanContext> }) {
  const [base] = sdkSpans((p) => p.getTracer('hand', '1.0.0').startSpan('hand-made').end());
  const ctx: SpanContext = { ...base!.spanContext(), ...overrides.context };
  const span: ReadableSpan = {
    name: base!.name,
    kind: base!.kind,
    spanContext: () => ctx,
    parentSpanContext: base!.parentSpanContext,
    startTime: base!.startTime,
    endTime: base!.endTime,
    status: base!.status,
    attributes: {},
    links: [],
    events: [],
    duration: base!.duration,
    ended: true,
    resource: base!.resource,
    instrumentationScope: base!.instrumentationScope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...overrides,
  };
  return span;
}

describe('OTLP attribute values', () => {
  it('writes strings of every UTF-8 width, empty and with lone surrogates', () => {
    const values: Record<string, string> = {
      empty: '',
      ascii: 'GET /users/:id',
      del: '\x7f',
      latin: 'naïve café',
      cjk: '東京',
      astral: '𝄞 🎉',
      lone_high: 'a\ud800b',
      lone_low: '\udc00',
      long_ascii: 'r'.repeat(200),
      long_utf8: 'ü€𝄞'.repeat(50),
      cacheable_64: 'c'.repeat(64),
      not_cached_65: 'c'.repeat(65),
    };
    const [span] = encoded([spanWith(values)]);
    // Lone surrogates become U+FFFD, as any UTF-8 encoder writes them.
    expect(span!.attributes).toEqual({
      ...Object.fromEntries(Object.entries(values).map(([k, v]) => [k, str(v)])),
      lone_high: str('a\ufffdb'),
      lone_low: str('\ufffd'),
    });
  });

  it('writes integers as int64 up to its bounds, and other numbers as doubles', () => {
    const numbers: Record<string, number> = {
      zero: 0,
      negative_zero: -0,
      one: 1,
      minus_one: -1,
      max_7_bits: 127,
      min_8_bits: 128,
      max_cached: 0xffff,
      above_cached: 0x10000,
      two_31: 2 ** 31,
      minus_two_31: -(2 ** 31),
      two_32: 2 ** 32,
      max_safe: Number.MAX_SAFE_INTEGER,
      min_safe: Number.MIN_SAFE_INTEGER,
      two_53: 2 ** 53,
      below_two_63: 2 ** 63 - 1024, // the largest double below 2^63
      min_int64: -(2 ** 63),
      half: 0.5,
      negative: -2.25,
      tiny: 5e-324,
      huge: 1e300,
      nan: Number.NaN,
      infinity: Infinity,
      minus_infinity: -Infinity,
      fraction: 65_535.5,
    };
    const [span] = encoded([spanWith(numbers)]);
    expect(span!.attributes).toEqual({
      zero: int(0),
      negative_zero: int(0),
      one: int(1),
      minus_one: int(-1),
      max_7_bits: int(127),
      min_8_bits: int(128),
      max_cached: int(0xffff),
      above_cached: int(0x10000),
      two_31: int(2 ** 31),
      minus_two_31: int(-(2 ** 31)),
      two_32: int(2 ** 32),
      max_safe: int(Number.MAX_SAFE_INTEGER),
      min_safe: int(Number.MIN_SAFE_INTEGER),
      two_53: int(2n ** 53n),
      below_two_63: int(2n ** 63n - 1024n),
      min_int64: int(-(2n ** 63n)),
      half: double(0.5),
      negative: double(-2.25),
      tiny: double(5e-324),
      huge: double(1e300),
      nan: double(Number.NaN),
      infinity: double(Infinity),
      minus_infinity: double(-Infinity),
      fraction: double(65_535.5),
    });
  });

  it('writes integers outside int64 as doubles rather than wrapping them', () => {
    // OpenTelemetry's serializer cannot write these (it wraps 2^63 to its low
    // 64 bits): compared with what a user expects only.
    const [span] = ours([spanWith({ two_63: 2 ** 63, two_64: 2 ** 64, below: -(2 ** 63) - 4096 })]);
    expect(span!.attributes).toEqual({
      two_63: double(2 ** 63),
      two_64: double(2 ** 64),
      below: double(-(2 ** 63) - 4096),
    });
  });

  it('writes booleans and homogeneous arrays, with their empty items', () => {
    const values = {
      yes: true,
      no: false,
      strings: ['a', '', 'ß', '𝄞'],
      ints: [0, -1, 2 ** 53, 128],
      doubles: [0.5, Number.NaN, -Infinity],
      mixed_numbers: [1, 1.5],
      bools: [true, false, true],
      empty: [],
      gaps: ['a', null, undefined, 'b'],
      long: Array.from({ length: 100 }, (_, i) => `item ${i}`),
    } as unknown as Attributes;
    const [span] = encoded([spanWith(values)]);
    const empty = { empty: true };
    expect(span!.attributes).toEqual({
      yes: bool(true),
      no: bool(false),
      strings: { array: [str('a'), str(''), str('ß'), str('𝄞')] },
      ints: { array: [int(0), int(-1), int(2n ** 53n), int(128)] },
      doubles: { array: [double(0.5), double(Number.NaN), double(-Infinity)] },
      mixed_numbers: { array: [int(1), double(1.5)] },
      bools: { array: [bool(true), bool(false), bool(true)] },
      empty: { array: [] },
      gaps: { array: [str('a'), empty, empty, str('b')] },
      long: { array: Array.from({ length: 100 }, (_, i) => str(`item ${i}`)) },
    });
  });

  it('writes values the SDK does not check (nested arrays, key-value lists, bytes, null) as OpenTelemetry does', () => {
    // A ReadableSpan from another SDK or processor can carry any value.
    const attributes = {
      nested: [
        [1, 2],
        ['x', [true]],
      ],
      map: { method: 'GET', code: 200, inner: { ok: true, ratio: 0.25 }, list: ['a'] },
      empty_map: {},
      bytes: new Uint8Array([0, 1, 0xfe, 0xff]),
      no_bytes: new Uint8Array(0),
      many_bytes: new Uint8Array(300).fill(7),
      null_value: null,
      bigint: 10n,
    } as unknown as Attributes;
    const span = handMade({
      attributes,
      events: [{ name: 'e', time: [1_765_000_000, 5], attributes }],
      links: [
        { context: { traceId: TRACE_ID, spanId: '1'.repeat(16), traceFlags: 1 }, attributes },
      ],
    });
    const [mine] = encoded([span]);
    const expected = {
      nested: {
        array: [{ array: [int(1), int(2)] }, { array: [str('x'), { array: [bool(true)] }] }],
      },
      map: {
        kvlist: {
          method: str('GET'),
          code: int(200),
          inner: { kvlist: { ok: bool(true), ratio: double(0.25) } },
          list: { array: [str('a')] },
        },
      },
      empty_map: { kvlist: {} },
      bytes: { bytes: new Uint8Array([0, 1, 0xfe, 0xff]) },
      no_bytes: { bytes: new Uint8Array(0) },
      many_bytes: { bytes: new Uint8Array(300).fill(7) },
      null_value: { empty: true },
      bigint: { empty: true },
    };
    expect(mine!.attributes).toEqual(expected);
    expect(mine!.events[0]!.attributes).toEqual(expected);
    expect(mine!.links[0]!.attributes).toEqual(expected);
  });

  it('leaves out attributes whose value is undefined, and inherited ones', () => {
    const inherited = Object.create({ inherited: 'x' }) as Record<string, unknown>;
    inherited['own'] = 'y';
    inherited['missing'] = undefined;
    inherited['map'] = Object.assign(Object.create({ up: 1 }) as object, {
      down: 2,
      gone: undefined,
    });
    const attributes = inherited as Attributes;
    const span = handMade({
      attributes,
      events: [{ name: 'e', time: [1_765_000_000, 5], attributes }],
      links: [
        { context: { traceId: TRACE_ID, spanId: '1'.repeat(16), traceFlags: 1 }, attributes },
      ],
    });
    const expected = { own: str('y'), map: { kvlist: { down: int(2) } } };
    for (const [mine] of [ours([span]), ours([span])]) {
      expect(mine!.attributes).toEqual(expected);
      expect(mine!.events[0]!.attributes).toEqual(expected);
      expect(mine!.links[0]!.attributes).toEqual(expected);
    }
  });

  it('writes the same span bytes with and without the cache of encoded attributes', () => {
    const spans = sdkSpans((p) => {
      const tracer = p.getTracer('cache');
      for (let i = 0; i < 3; i++) {
        tracer
          .startSpan('cached', {
            attributes: {
              method: 'GET',
              status: 200,
              zero: 0,
              big: 0x10000,
              negative: -1,
              ratio: 0.5,
              ['k'.repeat(129)]: 'v',
              ['k128'.padEnd(128, 'k')]: 'v',
              v64: 'v'.repeat(64),
              v65: 'v'.repeat(65),
              yes: true,
              list: ['a'],
              same: i % 2 === 0 ? 'GET' : 200,
            },
          })
          .end();
      }
    });
    const encoder = new SpanEncoder();
    for (const span of [...spans, ...spans]) {
      const e = encoder.encode(span);
      const plain = new ProtoWriter(16);
      writeSpan(plain, span);
      expect(e.slab.subarray(e.start, e.end).equals(plain.take())).toBe(true);
    }
    encoded(spans);
  });
});

describe('OTLP spans', () => {
  it('counts dropped attributes, events and links, and dropped attributes of events and links', () => {
    const limits: SpanLimits = {
      attributeCountLimit: 2,
      eventCountLimit: 1,
      linkCountLimit: 1,
      attributePerEventCountLimit: 1,
      attributePerLinkCountLimit: 1,
    };
    const [span] = sdkSpans(
      (p) => {
        const s = p.getTracer('limits').startSpan('limited', {
          attributes: { a: 1, b: 2, c: 3, d: 4 },
          links: [
            { context: { traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags: 1 } },
            {
              context: { traceId: TRACE_ID, spanId: 'b7ad6b7169203332', traceFlags: 0 },
              attributes: { x: 1, y: 2, z: 3 },
            },
          ],
        });
        s.addEvent('first', { e1: 1, e2: 2, e3: 3 });
        s.addEvent('second', { f: 1 });
        s.addEvent('third');
        s.end();
      },
      { limits },
    );
    const [mine] = encoded([span!]);
    expect(mine!.droppedAttributesCount).toBe(2);
    expect(mine!.droppedEventsCount).toBe(2);
    expect(mine!.droppedLinksCount).toBe(1);
    expect(mine!.events.map((e) => [e.name, e.droppedAttributesCount])).toEqual([['third', 0]]);
    expect(mine!.links.map((l) => [l.spanId, l.droppedAttributesCount])).toEqual([
      ['b7ad6b7169203332', 2],
    ]);

    const [first] = encoded(
      sdkSpans(
        (p) => {
          const s = p.getTracer('limits').startSpan('events');
          s.addEvent('first', { e1: 1, e2: 2, e3: 3 });
          s.end();
        },
        { limits },
      ),
    );
    expect(first!.events.map((e) => [e.name, e.droppedAttributesCount])).toEqual([['first', 2]]);
    expect(first!.events[0]!.attributes).toEqual({ e1: int(1) });
  });

  it('writes each event with its time, name and attributes, in order', () => {
    const [span] = sdkSpans((p) => {
      const s = p.getTracer('events').startSpan('with events', { startTime: [1_765_000_000, 0] });
      s.addEvent('plain', [1_765_000_000, 1]);
      s.addEvent('with attributes', { step: 'auth', n: 2, ok: true }, [1_765_000_001, 999_999_999]);
      s.addEvent('', [1_765_000_002, 0]);
      s.recordException(new RangeError('out of range'), [1_765_000_003, 7]);
      s.end([1_765_000_004, 0]);
    });
    const [mine] = encoded([span!]);
    expect(mine!.events).toEqual([
      {
        name: 'plain',
        timeUnixNano: 1_765_000_000_000_000_001n,
        attributes: {},
        droppedAttributesCount: 0,
      },
      {
        name: 'with attributes',
        timeUnixNano: 1_765_000_001_999_999_999n,
        attributes: { step: str('auth'), n: int(2), ok: bool(true) },
        droppedAttributesCount: 0,
      },
      {
        name: '',
        timeUnixNano: 1_765_000_002_000_000_000n,
        attributes: {},
        droppedAttributesCount: 0,
      },
      expect.objectContaining({
        name: 'exception',
        timeUnixNano: 1_765_000_003_000_000_007n,
      }),
    ]);
    expect(mine!.events[3]!.attributes).toMatchObject({
      'exception.type': str('RangeError'),
      'exception.message': str('out of range'),
    });
  });

  it('writes start and end times to the nanosecond, a fractional nanosecond truncated', () => {
    const times: [HrTime, HrTime][] = [
      [
        [1_765_000_000, 0],
        [1_765_000_000, 999_999_999],
      ],
      [
        [1_765_000_000, 123.9999999],
        [1_765_000_001, 5.5],
      ],
      [
        [5, 1.9999999],
        [6, 0.9999999],
      ],
      [
        [2 ** 34 + 1, 999_999_999.9999],
        [2 ** 34 + 2, 1],
      ],
    ];
    const spans = sdkSpans((p) => {
      const tracer = p.getTracer('times');
      for (const [start, end] of times) {
        const s = tracer.startSpan('timed', { startTime: start });
        s.addEvent('at start', start);
        s.end(end);
      }
    });
    const mine = ours(spans);
    const nanos = (t: HrTime): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(Math.trunc(t[1]));
    const written = mine.map((s) => [
      s.startTimeUnixNano,
      s.endTimeUnixNano,
      s.events[0]!.timeUnixNano,
    ]);
    expect(written).toEqual(times.map(([start, end]) => [nanos(start), nanos(end), nanos(start)]));
    // OpenTelemetry's OTLP/JSON serializer writes the same nanoseconds (its
    // protobuf serializer 0.223 adds the fraction in floating point and can
    // round up: 1765000000000000124 for the second span).
    const json = JSON.parse(
      Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString(),
    ) as {
      resourceSpans: {
        scopeSpans: {
          spans: {
            startTimeUnixNano: string;
            endTimeUnixNano: string;
            events: { timeUnixNano: string }[];
          }[];
        }[];
      }[];
    };
    expect(written).toEqual(
      json.resourceSpans[0]!.scopeSpans[0]!.spans.map((s) =>
        [s.startTimeUnixNano, s.endTimeUnixNano, s.events[0]!.timeUnixNano].map(BigInt),
      ),
    );
    // Everything else as its protobuf serializer writes it.
    const withoutTimes = (list: OtlpSpan[]) =>
      list.map((s) => ({ ...s, startTimeUnixNano: 0n, endTimeUnixNano: 0n, events: [] }));
    expect(withoutTimes(mine)).toEqual(withoutTimes(theirs(spans)));
    expect(theirs(spans.slice(0, 1))).toEqual(ours(spans.slice(0, 1)));
  });

  it('writes every span kind and status', () => {
    const kinds = [
      SpanKind.INTERNAL,
      SpanKind.SERVER,
      SpanKind.CLIENT,
      SpanKind.PRODUCER,
      SpanKind.CONSUMER,
    ];
    const statuses = [
      { code: SpanStatusCode.UNSET },
      { code: SpanStatusCode.OK },
      { code: SpanStatusCode.ERROR },
      { code: SpanStatusCode.ERROR, message: 'upstream failed: ü €' },
      { code: SpanStatusCode.ERROR, message: 'e'.repeat(300) },
    ];
    const spans = sdkSpans((p) => {
      const tracer = p.getTracer('kinds');
      for (const kind of kinds) {
        for (const status of statuses) {
          const s = tracer.startSpan(`${kind}`, { kind });
          s.setStatus(status);
          s.end();
        }
      }
    });
    const mine = encoded(spans);
    expect(mine.map((s) => [s.name, s.kind])).toEqual(
      kinds.flatMap((k) => statuses.map(() => [`${k}`, k + 1])),
    );
    expect(mine.map((s) => s.status)).toEqual(
      kinds.flatMap(() => statuses.map((s) => ({ code: s.code, message: s.message ?? '' }))),
    );
  });

  it('writes a status message without a code, and a code without a message', () => {
    // The SDK drops the message of a status that is not an error; another SDK may not.
    const cases = [
      { code: SpanStatusCode.UNSET, message: 'note' },
      { code: SpanStatusCode.OK, message: 'fine' },
      { code: SpanStatusCode.OK, message: '' },
      { code: SpanStatusCode.UNSET, message: '' },
    ];
    const mine = encoded(cases.map((status) => handMade({ status })));
    expect(mine.map((s) => s.status)).toEqual(cases);
  });

  it('writes the trace flags, trace state and parent of each span', () => {
    const remoteParent: SpanContext = {
      traceId: TRACE_ID,
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('vendor=abc,other=x-1'),
    };
    const spans = sdkSpans((p) => {
      const tracer = p.getTracer('parents');
      const remote = trace.setSpanContext(context.active(), remoteParent);
      const server = tracer.startSpan('server', { kind: SpanKind.SERVER }, remote);
      tracer.startSpan('child', {}, trace.setSpan(context.active(), server)).end();
      server.end();
      tracer.startSpan('root', { root: true }).end();
      const localParent = trace.setSpanContext(context.active(), {
        ...remoteParent,
        isRemote: false,
        traceState: new TraceState(''),
      });
      tracer.startSpan('under local', {}, localParent).end();
    });
    const mine = encoded(spans);
    const byName = Object.fromEntries(mine.map((s) => [s.name, s]));
    expect(byName['server']).toMatchObject({
      traceId: TRACE_ID,
      parentSpanId: '00f067aa0ba902b7',
      traceState: 'vendor=abc,other=x-1',
      flags: 0x301,
    });
    expect(byName['child']).toMatchObject({
      parentSpanId: byName['server']!.spanId,
      traceState: 'vendor=abc,other=x-1',
      flags: 0x101,
    });
    expect(byName['root']).toMatchObject({ parentSpanId: '', traceState: '', flags: 0x101 });
    expect(byName['under local']).toMatchObject({
      parentSpanId: '00f067aa0ba902b7',
      traceState: '',
      flags: 0x101, // sampled, "has is_remote", parent local
    });
    for (const s of mine) expect(s.spanId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('writes the flags of spans and links from every trace flags bit, and parents of unknown origin', () => {
    const link = (traceFlags: number, isRemote?: boolean): Link => ({
      context: {
        traceId: TRACE_ID,
        spanId: `${traceFlags}`.padStart(16, '0'),
        traceFlags,
        ...(isRemote === undefined ? {} : { isRemote }),
      },
    });
    const cases: { traceFlags: number; parent?: Partial<SpanContext> }[] = [
      { traceFlags: 0 },
      { traceFlags: 1, parent: { isRemote: true } },
      { traceFlags: 0x02, parent: { isRemote: false } },
      { traceFlags: 0xff, parent: {} },
      { traceFlags: 0x1ff, parent: { isRemote: true } },
      { traceFlags: 1, parent: { spanId: '', isRemote: true } },
    ];
    const spans = cases.map(({ traceFlags, parent }) =>
      handMade({
        context: { traceFlags },
        ...(parent === undefined
          ? { parentSpanContext: undefined }
          : {
              parentSpanContext: {
                traceId: TRACE_ID,
                spanId: '00f067aa0ba902b7',
                traceFlags: 1,
                ...parent,
              },
            }),
        links: [link(traceFlags), link(traceFlags, true), link(traceFlags, false)],
      }),
    );
    const mine = encoded(spans);
    expect(mine.map((s) => [s.parentSpanId, s.flags])).toEqual([
      ['', 0x100],
      ['00f067aa0ba902b7', 0x301],
      ['00f067aa0ba902b7', 0x102],
      ['00f067aa0ba902b7', 0x1ff],
      ['00f067aa0ba902b7', 0x3ff],
      ['', 0x301],
    ]);
    expect(mine.map((s) => s.links.map((l) => l.flags))).toEqual([
      [0x100, 0x300, 0x100],
      [0x101, 0x301, 0x101],
      [0x102, 0x302, 0x102],
      [0x1ff, 0x3ff, 0x1ff],
      [0x1ff, 0x3ff, 0x1ff],
      [0x101, 0x301, 0x101],
    ]);
  });

  it('writes link ids, trace state and attributes', () => {
    const links: Link[] = [
      {
        context: {
          traceId: TRACE_ID,
          spanId: 'b7ad6b7169203331',
          traceFlags: 1,
          isRemote: true,
          traceState: new TraceState('a=1'),
        },
        attributes: { 'messaging.message.id': 'm-1', n: 3 },
      },
      {
        context: { traceId: 'F'.repeat(32), spanId: 'A'.repeat(16), traceFlags: 0 },
        droppedAttributesCount: 4,
      },
    ];
    // An invalid id is written as zeroes (which a collector rejects as
    // invalid; OpenTelemetry's serializer writes whatever its hex parser makes of it).
    const invalid: Link = {
      context: { traceId: 'zz'.repeat(16), spanId: 'short', traceFlags: 0 },
      attributes: {},
    };
    encoded([handMade({ links })]);
    const [mine] = ours([handMade({ links: [...links, invalid] })]);
    expect(mine!.links).toEqual([
      {
        traceId: TRACE_ID,
        spanId: 'b7ad6b7169203331',
        traceState: 'a=1',
        attributes: { 'messaging.message.id': str('m-1'), n: int(3) },
        droppedAttributesCount: 0,
        flags: 0x301,
      },
      {
        traceId: 'f'.repeat(32),
        spanId: 'a'.repeat(16),
        traceState: '',
        attributes: {},
        droppedAttributesCount: 4,
        flags: 0x100,
      },
      {
        // Invalid ids are written as zeroes (a collector rejects them as invalid).
        traceId: '0'.repeat(32),
        spanId: '0'.repeat(16),
        traceState: '',
        attributes: {},
        droppedAttributesCount: 0,
        flags: 0x100,
      },
    ]);
  });
});

describe('OTLP requests', () => {
  it('writes the resource attributes and schema URL once, and each scope with its name, version and schema URL', () => {
    const spans = sdkSpans(
      (p) => {
        p.getTracer('stacklight', '0.1.0').startSpan('one').end();
        p.getTracer('lib', undefined, { schemaUrl: 'https://schemas.example/1.30.0' })
          .startSpan('two')
          .end();
        p.getTracer('stacklight', '0.1.0').startSpan('three').end();
        p.getTracer('lib', '').startSpan('four').end();
        p.getTracer('ü-lib', '2.0.0-β').startSpan('five').end();
      },
      {
        resource: {
          'service.name': 'edge',
          'process.pid': 4242,
          'host.arch': 'amd64',
          'deployment.sampled': true,
          'sample.ratio': 0.25,
          'process.command_args': ['node', 'server.js'],
        },
        schemaUrl: 'https://schemas.example/1.28.0',
      },
    );
    const mine = encoded(spans);
    expect(mine.map((s) => [s.name, s.scope, s.scopeVersion, s.scopeSchemaUrl])).toEqual([
      ['one', 'stacklight', '0.1.0', ''],
      ['three', 'stacklight', '0.1.0', ''],
      ['two', 'lib', '', 'https://schemas.example/1.30.0'],
      ['four', 'lib', '', ''],
      ['five', 'ü-lib', '2.0.0-β', ''],
    ]);
    for (const s of mine) {
      expect(s.resourceSchemaUrl).toBe('https://schemas.example/1.28.0');
      expect(s.resource).toEqual({
        'service.name': str('edge'),
        'process.pid': int(4242),
        'host.arch': str('amd64'),
        'deployment.sampled': bool(true),
        'sample.ratio': double(0.25),
        'process.command_args': { array: [str('node'), str('server.js')] },
      });
    }
  });

  it('writes no resource schema URL when the resource has none, and a request of no spans as empty resource spans', () => {
    const spans = sdkSpans((p) => p.getTracer('plain').startSpan('one').end());
    const [mine] = encoded(spans);
    expect(mine!.resourceSchemaUrl).toBe('');
    expect(mine!.resource).toEqual({ 'service.name': str('values') });
    // A fresh encoder asked for an empty batch writes one empty ResourceSpans.
    expect([...new SpanEncoder().request([])]).toEqual([0x0a, 0x00]);
  });
});

/** Protobuf pieces, from the wire format's definition. */
const varint = (n: number): number[] => {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) + 0x80);
  return [...out, n];
};
const tag = (field: number, wire: number) => varint(field * 8 + wire);
const len = (field: number, payload: number[]) => [
  ...tag(field, 2),
  ...varint(payload.length),
  ...payload,
];
const text = (field: number, s: string) => len(field, [...Buffer.from(s)]);
const hex = (field: number, h: string) => len(field, [...Buffer.from(h, 'hex')]);
const uint = (field: number, n: number) => [...tag(field, 0), ...varint(n)];
const fixed32 = (field: number, n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...tag(field, 5), ...b];
};
const fixed64 = (field: number, n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return [...tag(field, 1), ...b];
};

describe('OTLP canonical form', () => {
  it('writes no field at its default value: empty strings, zero counts, an unset status', () => {
    const span = handMade({
      name: 'op',
      kind: SpanKind.INTERNAL,
      context: {
        traceId: TRACE_ID,
        spanId: 'b7ad6b7169203331',
        traceFlags: 1,
        traceState: new TraceState(''),
      },
      parentSpanContext: undefined,
      startTime: [1_765_000_000, 0],
      endTime: [1_765_000_000, 1_000],
      events: [{ name: 'e', time: [1_765_000_000, 5] }],
      links: [
        {
          context: {
            traceId: TRACE_ID,
            spanId: '00f067aa0ba902b7',
            traceFlags: 0,
            traceState: new TraceState(''),
          },
        },
      ],
      status: { code: SpanStatusCode.ERROR },
      resource: resourceFromAttributes({ 'service.name': 'a' }),
      instrumentationScope: { name: 's', version: '', schemaUrl: '' },
    });
    const encoder = new SpanEncoder();
    const body = [...encoder.request([encoder.encode(span)])];
    const spanBytes = [
      ...hex(1, TRACE_ID),
      ...hex(2, 'b7ad6b7169203331'),
      ...text(5, 'op'),
      ...uint(6, 1),
      ...fixed64(7, 1_765_000_000_000_000_000n),
      ...fixed64(8, 1_765_000_000_000_001_000n),
      ...len(11, [...fixed64(1, 1_765_000_000_000_000_005n), ...text(2, 'e')]),
      ...len(13, [...hex(1, TRACE_ID), ...hex(2, '00f067aa0ba902b7'), ...fixed32(6, 0x100)]),
      ...len(15, uint(3, 2)),
      ...fixed32(16, 0x101),
    ];
    expect(body).toEqual(
      len(1, [
        ...len(1, len(1, [...text(1, 'service.name'), ...len(2, text(1, 'a'))])),
        ...len(2, [...len(1, text(1, 's')), ...len(2, spanBytes)]),
      ]),
    );
    // The same span with a status message and no code, and with zero counts given.
    const other = handMade({
      ...span,
      status: { code: SpanStatusCode.UNSET, message: 'm' },
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
      events: [{ name: 'e', time: [1_765_000_000, 5], droppedAttributesCount: 0, attributes: {} }],
      links: [{ ...span.links[0]!, droppedAttributesCount: 0, attributes: {} }],
    });
    const otherBytes = [...spanBytes];
    const status = len(15, uint(3, 2));
    const at = spanBytes.length - status.length - 6;
    otherBytes.splice(at, status.length, ...len(15, text(2, 'm')));
    const e = encoder.encode(other);
    expect([...e.slab.subarray(e.start, e.end)]).toEqual(len(2, otherBytes));
  });
});

describe('OTLP attribute cache', () => {
  /** A span's `KeyValue` (field 9) of a string or an integer value. */
  const keyValue = (key: string, value: string | number) =>
    len(9, [
      ...text(1, key),
      ...len(2, typeof value === 'string' ? text(1, value) : uint(3, value)),
    ]);
  type Cache = Map<string, Map<string | number, Buffer>>;
  const cached = (cache: Cache) =>
    [...cache].map(([key, values]) => [key, [...values].map(([v, b]) => [v, [...b]])]);

  it('caches only short string values and small non-negative integers, under keys of at most 128 characters', () => {
    const k128 = 'k'.repeat(128);
    const span = handMade({
      attributes: {
        s64: 'v'.repeat(64),
        s65: 'v'.repeat(65),
        empty: '',
        zero: 0,
        max: 0xffff,
        over: 0x10000,
        negative: -1,
        half: 0.5,
        yes: true,
        list: ['a'],
        [k128]: 'x',
        [`${k128}k`]: 'x',
      },
    });
    const cache: Cache = new Map();
    const w = new ProtoWriter(16);
    writeSpan(w, span, cache);
    expect(cached(cache)).toEqual([
      ['s64', [['v'.repeat(64), keyValue('s64', 'v'.repeat(64))]]],
      ['empty', [['', keyValue('empty', '')]]],
      ['zero', [[0, keyValue('zero', 0)]]],
      ['max', [[0xffff, keyValue('max', 0xffff)]]],
      [k128, [['x', keyValue(k128, 'x')]]],
    ]);
    // The span is the same with the cache as without.
    const plain = new ProtoWriter(16);
    writeSpan(plain, span);
    expect(w.take().equals(plain.take())).toBe(true);
  });

  it('holds at most 256 keys and 64 values a key, the first ones seen', () => {
    const cache: Cache = new Map();
    const w = new ProtoWriter(16);
    for (let i = 0; i < 300; i++) {
      writeSpan(
        w,
        handMade({ attributes: { route: `/r/${i % 100}`, [`key.${i}`]: 'same' } }),
        cache,
      );
    }
    expect([...cache.keys()]).toEqual([
      'route',
      ...Array.from({ length: 255 }, (_, i) => `key.${i}`),
    ]);
    expect([...cache.get('route')!.keys()]).toEqual(
      Array.from({ length: 64 }, (_, i) => `/r/${i}`),
    );
  });

  it('writes the bytes it cached for a key and value instead of encoding them again', () => {
    // A cache entry that says otherwise than the value shows which one is written.
    const cache: Cache = new Map([
      ['http.route', new Map([['/a', Buffer.from(keyValue('http.route', '/b'))]])],
    ]);
    const w = new ProtoWriter(16);
    w.tag(1, 2);
    const rs = w.begin();
    w.tag(2, 2);
    const ss = w.begin();
    writeSpan(w, handMade({ attributes: { 'http.route': '/a', other: '/a' } }), cache);
    w.end(ss);
    w.end(rs);
    const [span] = decodeExportTraceServiceRequest(w.take(), { typed: true });
    expect(span!.attributes).toEqual({ 'http.route': str('/b'), other: str('/a') });
  });
});

describe('OTLP encoder buffers', () => {
  /** Spans of exactly `size` encoded bytes each. */
  function spansOf(size: number, count: number): ReadableSpan[] {
    // A name of 128 to 16 383 characters takes a two-byte length.
    const probe = new SpanEncoder().encode(handMade({ name: 'n'.repeat(128) }));
    const name = 'n'.repeat(128 + size - (probe.end - probe.start));
    return Array.from({ length: count }, () => handMade({ name }));
  }

  it('packs spans back to back into 64 KiB buffers, starting a new one with less than 4 KiB left', () => {
    // 240-byte spans: the 256th ends at 61 440, exactly 4 KiB before the
    // end, so one more fits (it may need up to 4 KiB); the next starts a new buffer.
    const spans = spansOf(240, 600);
    const encoder = new SpanEncoder();
    const encoded = spans.map((s) => encoder.encode(s));
    expect(encoded.map((e) => e.end - e.start)).toEqual(spans.map(() => 240));
    expect(encoded.map((e) => e.start)).toEqual(spans.map((_, i) => (i % 257) * 240));
    const slabs = [...new Set(encoded.map((e) => e.slab))];
    expect(slabs.map((s) => s.length)).toEqual([65_536, 65_536, 65_536]);
    expect(encoded.map((e) => slabs.indexOf(e.slab))).toEqual(
      spans.map((_, i) => Math.floor(i / 257)),
    );
    expect(decodeExportTraceServiceRequest(encoder.request(encoded))).toHaveLength(600);
  });

  it('encodes the resource once, from the first span (one encoder per provider)', () => {
    const first = handMade({ resource: resourceFromAttributes({ 'service.name': 'first' }) });
    const second = handMade({ resource: resourceFromAttributes({ 'service.name': 'second' }) });
    const encoder = new SpanEncoder();
    const batch = [encoder.encode(first), encoder.encode(second)];
    expect(decodeExportTraceServiceRequest(encoder.request(batch)).map((s) => s.resource)).toEqual([
      { 'service.name': 'first' },
      { 'service.name': 'first' },
    ]);
  });

  it('writes a request whose resource is larger than its spans', () => {
    const big = { 'service.name': 'edge', 'host.tags': 't'.repeat(1000) };
    const span = handMade({ resource: resourceFromAttributes(big) });
    const encoder = new SpanEncoder();
    const [decoded] = decodeExportTraceServiceRequest(encoder.request([encoder.encode(span)]));
    expect(decoded!.resource).toEqual(big);
  });
});

describe('OTLP canonical form: status', () => {
  it('writes no status for a span whose status is unset and has no message', () => {
    const span = handMade({
      name: 'op',
      kind: SpanKind.INTERNAL,
      context: { traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags: 1 },
      parentSpanContext: undefined,
      startTime: [1_765_000_000, 0],
      endTime: [1_765_000_000, 0],
      status: { code: SpanStatusCode.UNSET },
    });
    const e = new SpanEncoder().encode(span);
    expect([...e.slab.subarray(e.start, e.end)]).toEqual(
      len(2, [
        ...hex(1, TRACE_ID),
        ...hex(2, 'b7ad6b7169203331'),
        ...text(5, 'op'),
        ...uint(6, 1),
        ...fixed64(7, 1_765_000_000_000_000_000n),
        ...fixed64(8, 1_765_000_000_000_000_000n),
        ...fixed32(16, 0x101),
      ]),
    );
  });
});
