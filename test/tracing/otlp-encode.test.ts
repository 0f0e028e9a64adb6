/**
 * stacklight encodes spans to OTLP protobuf itself, when they end. These
 * tests decode what it writes and compare it, field by field, with what
 * OpenTelemetry's own OTLP serializer writes for the very same spans, over
 * every kind of value a span can hold: attribute types, long and non-ASCII
 * strings (multi-byte lengths), events, links, status, trace state and the
 * remote-parent flags.
 */
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type SpanContext,
} from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { SpanEncoder, type EncodedSpan } from '../../src/tracing/otlp/encode.js';
import { ProtoWriter } from '../../src/tracing/otlp/proto-writer.js';
import { collectEnded, decodeExportTraceServiceRequest } from '../helpers/otlp-receiver.js';

const ended: ReadableSpan[] = [];
const collect = collectEnded(ended);
const resource = resourceFromAttributes({
  'service.name': 'edge',
  'deployment.environment.name': 'production',
  'process.pid': 4242,
});
const provider = new BasicTracerProvider({ resource, spanProcessors: [collect] });
const tracer = provider.getTracer('stacklight', '0.1.0');
const other = provider.getTracer('user-lib');

afterAll(() => provider.shutdown());

const REMOTE_PARENT: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState('vendor=abc,other=x-1'),
};

function makeSpans(): ReadableSpan[] {
  ended.length = 0;
  const long = 'x'.repeat(200);
  const huge = 'ü€𝄞'.repeat(6000); // 2-, 3- and 4-byte UTF-8, > 16 KiB: three-byte lengths
  const parent = trace.setSpanContext(context.active(), REMOTE_PARENT);
  const server = tracer.startSpan(
    'GET /users/:id',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'http.route': '/users/:id',
        'http.response.status_code': 503,
        negative: -17,
        big: 2 ** 53 + 2,
        ratio: 0.125,
        yes: true,
        no: false,
        names: ['a', 'ß', long],
        numbers: [1, -2, 3.5],
        flags: [true, false],
        gaps: ['a', null, 'b'] as unknown as string[],
        unicode: 'naïve café ☕ 𝄞',
        long,
        huge,
      },
      links: [
        {
          context: { ...REMOTE_PARENT, spanId: 'a1b2c3d4e5f60718', isRemote: false },
          attributes: { 'messaging.batch': 3 },
        },
      ],
    },
    parent,
  );
  server.addEvent('checkpoint', { step: 'auth', n: 2 });
  server.recordException(new TypeError('bad input'));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed: ü' });
  const child = tracer.startSpan(
    'pg query',
    { kind: SpanKind.CLIENT },
    trace.setSpan(context.active(), server),
  );
  child.end();
  server.end();
  const root = other.startSpan('job', { kind: SpanKind.CONSUMER, root: true });
  root.setStatus({ code: SpanStatusCode.OK });
  root.end();
  const internal = other.startSpan('compute', {}, trace.setSpan(context.active(), root));
  internal.end();
  return [...ended];
}

/** The bytes of one encoded span. */
function bytesOf(e: EncodedSpan): Buffer {
  return e.slab.subarray(e.start, e.end);
}

function ours(spans: ReadableSpan[]): Buffer {
  const encoder = new SpanEncoder();
  return encoder.request(spans.map((s) => encoder.encode(s)));
}

const theirs = (spans: ReadableSpan[]): Uint8Array =>
  ProtobufTraceSerializer.serializeRequest(spans)!;

/** Decoded spans in a stable order, for comparison. */
function decoded(body: Uint8Array) {
  return decodeExportTraceServiceRequest(body).sort((a, b) => a.spanId.localeCompare(b.spanId));
}

describe('OTLP span encoding', () => {
  it('decodes to exactly what OpenTelemetry’s serializer produces for the same spans', () => {
    const spans = makeSpans();
    expect(spans).toHaveLength(4);
    const mine = decoded(ours(spans));
    const reference = decoded(theirs(spans));
    expect(mine).toHaveLength(4);
    expect(mine).toEqual(reference);
  });

  it('keeps every value a user would look for in the backend', () => {
    const spans = makeSpans();
    const byName = new Map(decoded(ours(spans)).map((s) => [s.name, s]));
    const server = byName.get('GET /users/:id')!;
    expect(server.traceId).toBe(REMOTE_PARENT.traceId);
    expect(server.parentSpanId).toBe(REMOTE_PARENT.spanId);
    expect(server.traceState).toBe('vendor=abc,other=x-1');
    expect(server.kind).toBe(2); // SERVER
    // sampled, "has is_remote", parent is remote
    expect(server.flags).toBe(0x01 | 0x100 | 0x200);
    expect(server.resource['service.name']).toBe('edge');
    expect(server.resource['process.pid']).toBe(4242);
    expect(server.scope).toBe('stacklight');
    expect(server.scopeVersion).toBe('0.1.0');
    expect(server.attributes).toMatchObject({
      'http.response.status_code': 503,
      negative: -17,
      big: 2n ** 53n + 2n,
      ratio: 0.125,
      yes: true,
      no: false,
      names: ['a', 'ß', 'x'.repeat(200)],
      numbers: [1, -2, 3.5],
      gaps: ['a', null, 'b'],
      unicode: 'naïve café ☕ 𝄞',
    });
    expect(server.attributes['huge']).toBe('ü€𝄞'.repeat(6000));
    expect(server.status).toEqual({ code: 2, message: 'upstream failed: ü' });
    expect(server.events.map((e) => e.name)).toEqual(['checkpoint', 'exception']);
    expect(server.events[1]!.attributes['exception.type']).toBe('TypeError');
    expect(server.links[0]!.spanId).toBe('a1b2c3d4e5f60718');
    expect(server.links[0]!.flags).toBe(0x01 | 0x100);
    // Nanosecond timestamps survive the 64-bit split exactly.
    const s = spans.find((x) => x.name === 'GET /users/:id')!;
    expect(server.startTimeUnixNano).toBe(
      BigInt(s.startTime[0]) * 1_000_000_000n + BigInt(s.startTime[1]),
    );
    expect(server.endTimeUnixNano).toBe(
      BigInt(s.endTime[0]) * 1_000_000_000n + BigInt(s.endTime[1]),
    );
    const job = byName.get('job')!;
    expect(job.parentSpanId).toBe('');
    expect(job.flags).toBe(0x01 | 0x100);
    expect(job.scope).toBe('user-lib');
    expect(job.status.code).toBe(1);
  });

  it('writes the same bytes when it reuses encoded attributes, past every cache bound', () => {
    // One encoder for many spans reuses the KeyValues of short string
    // attributes it has seen; a fresh encoder per span never does.
    const spans: ReadableSpan[] = [];
    ended.length = 0;
    for (let i = 0; i < 300; i++) {
      const span = tracer.startSpan('GET /users/:id', {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': i % 2 ? 'GET' : 'POST',
          'url.scheme': 'http',
          // 100 distinct values: more than are cached per key.
          'http.route': `/r/${i % 100}`,
          // Longer than the cached value length, and a key longer than cached keys.
          long: 'v'.repeat(60 + (i % 10)),
          ['k'.repeat(120 + (i % 16))]: 'x',
          // 300 distinct keys: more than are cached.
          [`key.${i}`]: 'same',
          count: i,
        },
      });
      span.end();
    }
    spans.push(...ended);
    const shared = new SpanEncoder();
    for (let round = 0; round < 2; round++) {
      for (const span of spans) {
        expect(bytesOf(shared.encode(span))).toEqual(bytesOf(new SpanEncoder().encode(span)));
      }
    }
  });

  it('keeps every span intact when spans fill many shared buffers, and when one outgrows them', () => {
    // Spans are encoded back to back into 64 KiB slabs; the queue holds them
    // across slabs, and a span bigger than a slab moves the encoder to a
    // bigger buffer. Each must still read back as itself, in any batch.
    ended.length = 0;
    for (let i = 0; i < 1500; i++) {
      const span = tracer.startSpan(`op ${i}`, {
        attributes: {
          i,
          pad: 'p'.repeat(i % 397),
          ...(i % 500 === 250 ? { big: 'b'.repeat(100_000 + i) } : {}),
        },
      });
      span.end();
    }
    const spans = [...ended];
    const encoder = new SpanEncoder();
    const encoded = spans.map((s) => encoder.encode(s));
    expect(new Set(encoded.map((e) => e.slab)).size).toBeGreaterThan(3);
    // Batches in an order other than encoding order, as after a failed export.
    const batches = [encoded.slice(700), encoded.slice(0, 700)];
    const back = batches.flatMap((b) => decodeExportTraceServiceRequest(encoder.request(b)));
    expect(back).toHaveLength(1500);
    const byName = new Map(back.map((s) => [s.name, s]));
    for (let i = 0; i < 1500; i++) {
      const s = byName.get(`op ${i}`)!;
      expect(s.attributes['i']).toBe(i);
      expect(s.attributes['pad']).toBe('p'.repeat(i % 397));
      if (i % 500 === 250) expect((s.attributes['big'] as string).length).toBe(100_000 + i);
    }
    expect(decoded(ours(spans))).toEqual(decoded(theirs(spans)));
  });

  it('groups a batch by instrumentation scope under one resource', () => {
    const body = ours(makeSpans());
    const spans = decodeExportTraceServiceRequest(body);
    expect(spans.map((s) => s.scope).sort()).toEqual([
      'stacklight',
      'stacklight',
      'user-lib',
      'user-lib',
    ]);
  });
});

describe('ProtoWriter', () => {
  it('writes hrtimes far in the future without losing nanoseconds', () => {
    for (const t of [
      [0, 0],
      [1, 999_999_999],
      [1_800_000_000, 123_456_789],
      [4_102_444_800, 999_999_999], // 2100-01-01
      [2 ** 32 + 5, 7],
    ] as [number, number][]) {
      const w = new ProtoWriter(4);
      w.hrTime(t);
      expect(w.take().readBigUInt64LE()).toBe(BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]));
    }
  });

  it('writes the same nanoseconds when it reuses the split of the last second', () => {
    // One writer: times within one second take the cached split (with the
    // carry into the high word), others the full computation.
    const w = new ProtoWriter(8);
    let seed = 11;
    const next = (n: number): number => {
      seed = (seed * 48271) % 0x7fffffff;
      return seed % n;
    };
    const times: [number, number][] = [];
    for (const second of [0, 1, 4, 1_800_000_000, 1_800_000_001, 4_102_444_800, 2 ** 33 + 1]) {
      times.push([second, 0], [second, 999_999_999]);
      for (let i = 0; i < 200; i++) times.push([second, next(1_000_000_000)]);
    }
    times.push([5, 1.5], [5, -1], [5, 2_000_000_000], [1.5, 3]); // off the fast path
    for (const t of times) {
      w.reset();
      w.hrTime(t);
      const exact =
        BigInt(Math.trunc(t[0])) * 1_000_000_000n +
        BigInt(Math.trunc(t[1])) +
        (Number.isInteger(t[0]) ? 0n : 500_000_000n);
      expect([t, w.take().readBigUInt64LE()]).toEqual([t, BigInt.asUintN(64, exact)]);
    }
  });

  it('writes a wide payload with the same bytes as a plain one, at every length boundary', () => {
    for (const len of [0, 1, 127, 128, 129, 16_383, 16_384, 20_000, 2 ** 21 + 3]) {
      const payload = Buffer.alloc(len, 7);
      const plain = new ProtoWriter(4);
      let s = plain.begin();
      plain.raw(payload);
      plain.end(s);
      const wide = new ProtoWriter(4);
      s = wide.beginWide();
      wide.raw(payload);
      wide.endWide(s);
      expect(wide.take().equals(plain.take())).toBe(true);
    }
  });

  it('writes an invalid id as zeroes rather than misparsing it', () => {
    const w = new ProtoWriter(4);
    w.hexId('zz' + '0'.repeat(14), 8);
    w.hexId('abc', 8);
    expect([...w.take()]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('writes an id as its bytes when every character is hex, else as zeroes', () => {
    const cases = [
      '0123456789abcdef',
      'ABCDEF0123456789',
      '0'.repeat(14) + 'zz',
      '0'.repeat(14) + '0z',
      '0000000g00000000',
      ' 123456789abcdef',
      '0123456789abcde ',
      '\u00e9'.repeat(16),
      // Two-byte characters whose low byte is a hex digit (Node's own hex
      // decoder reads them as '0' and 'a').
      '\u0130'.repeat(16),
      '0123456789abcde\u0161',
      '0123456789abcdef0',
      '',
    ];
    for (const hex of cases) {
      const w = new ProtoWriter(1);
      w.hexId(hex, 8);
      const expected = /^[0-9a-fA-F]{16}$/.test(hex)
        ? [...Buffer.from(hex, 'hex')]
        : Array<number>(8).fill(0);
      expect([hex, [...w.take()]]).toEqual([hex, [8, ...expected]]);
    }
  });

  it('encodes negative integers as ten-byte two’s complement varints', () => {
    const w = new ProtoWriter(1);
    w.int64(-1);
    expect([...w.take()]).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });
});
