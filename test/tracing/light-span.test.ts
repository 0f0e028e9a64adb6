/**
 * The light span stands in for the SDK span in the HTTP middleware, so it
 * must behave exactly like it. Each case here runs the same operations, with
 * the same ids and the same clock readings, on an SDK span (a
 * `BasicTracerProvider` with the same limits and sampler) and on a light span,
 * and compares every `ReadableSpan` field after every operation, the bytes the
 * OTLP encoder writes for both, the spans handed on at end, the arguments the
 * sampler got, what the SDK's console exporter prints and every `diag`
 * message. Named cases cover each rule; a seeded random walk covers their
 * combinations.
 */
import {
  diag,
  DiagLogLevel,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import { suppressTracing, TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  ConsoleSpanExporter,
  type IdGenerator,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type SpanLimits,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SAMPLERS } from '../../src/config/settings.js';
import { LightSpan } from '../../src/tracing/light-span.js';
import {
  createLightTracer,
  OWNED_ATTRIBUTES,
  type DropsFn,
  type LightTracer,
  type OwnedSpanOptions,
} from '../../src/tracing/light-tracer.js';
import { SpanEncoder } from '../../src/tracing/otlp/encode.js';
import { createSampler, samplerDrops, sdkSpanLimits } from '../../src/tracing/provider.js';

// ------------------------------------------------------------------ harness

/** Seeded ids (mulberry32), so that both tracers draw the same ones. */
class SeededIds implements IdGenerator {
  constructor(private seed: number) {}
  private hex(words: number): string {
    let out = '';
    for (let i = 0; i < words; i++) {
      this.seed = (this.seed + 0x6d2b79f5) | 0;
      let t = Math.imul(this.seed ^ (this.seed >>> 15), 1 | this.seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      out += ((t ^ (t >>> 14)) >>> 0).toString(16).padStart(8, '0');
    }
    return out;
  }
  generateTraceId(): string {
    return this.hex(4);
  }
  generateSpanId(): string {
    return this.hex(2);
  }
}

function random(seed: number): () => number {
  const ids = new SeededIds(seed);
  return () => parseInt(ids.generateSpanId().slice(0, 8), 16) / 2 ** 32;
}

/**
 * A scripted clock: `Date.now()` (whole milliseconds, a few ms off
 * `timeOrigin + performance.now()`, as real clocks drift) and
 * `performance.now()` stand still until an operation moves them.
 */
class Clock {
  perf = 0;
  private epochExact = 0;
  reset(): void {
    this.perf = 5_000.123;
    this.epochExact = performance.timeOrigin + this.perf + 2.5;
  }
  tick(ms: number): void {
    this.perf += ms;
    this.epochExact += ms;
  }
  get epoch(): number {
    return Math.floor(this.epochExact);
  }
}
const clock = new Clock();

function withClock<T>(fn: () => T): T {
  clock.reset();
  const now = vi.spyOn(Date, 'now').mockImplementation(() => clock.epoch);
  const perf = vi.spyOn(performance, 'now').mockImplementation(() => clock.perf);
  try {
    return fn();
  } finally {
    now.mockRestore();
    perf.mockRestore();
  }
}

/**
 * A deep copy as plain data; a trace state as its serialization (the SDK's
 * `TraceState` parses lazily, so its fields depend on who read it first).
 * Arrays keep their holes, objects their undefined-valued keys.
 */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value !== 'object' || value === null) return value;
  if (typeof (value as TraceState).serialize === 'function') {
    return { traceState: (value as TraceState).serialize() };
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = plain((value as Record<string, unknown>)[key]);
  return out;
}

/** Every diag call while a case runs: level, message, and the other arguments as data. */
let diagSink: unknown[][] | undefined;
const log =
  (level: string) =>
  (...args: unknown[]): void =>
    void diagSink?.push([
      level,
      ...args.map((a) => (a instanceof Error ? { error: a.message } : plain(a))),
    ]);
beforeAll(() => {
  diag.setLogger(
    {
      error: log('error'),
      warn: log('warn'),
      info: log('info'),
      debug: log('debug'),
      verbose: log('verbose'),
    },
    { logLevel: DiagLogLevel.ALL, suppressOverrideMessage: true },
  );
});
afterAll(() => diag.disable());

const resource = resourceFromAttributes({ 'service.name': 'edge', 'process.pid': 4242 });

/** Everything a reader of the span can see, as data. */
function snapshot(span: Span): unknown {
  const r = span as unknown as ReadableSpan;
  if (!('attributes' in span)) {
    return plain({
      type: span.constructor.name,
      recording: span.isRecording(),
      spanContext: span.spanContext(),
    });
  }
  expect(r.resource).toBe(resource);
  return plain({
    recording: span.isRecording(),
    spanContext: span.spanContext(),
    name: r.name,
    kind: r.kind,
    parentSpanContext: r.parentSpanContext,
    startTime: r.startTime,
    endTime: r.endTime,
    duration: r.duration,
    ended: r.ended,
    status: r.status,
    attributes: r.attributes,
    attributeOrder: Object.keys(r.attributes),
    events: r.events,
    links: r.links,
    droppedAttributesCount: r.droppedAttributesCount,
    droppedEventsCount: r.droppedEventsCount,
    droppedLinksCount: r.droppedLinksCount,
    instrumentationScope: r.instrumentationScope,
  });
}

type Op = (span: Span, c: Clock) => void;

interface Case {
  limits?: SpanLimits;
  sampler?: Sampler;
  /** Given to the light tracer (which then skips the sampler where it says so). */
  drops?: DropsFn;
  parent?: Context;
  options?: (c: Clock) => SpanOptions;
  ops: Op[];
}

interface Outcome {
  snapshots: unknown[];
  diag: unknown[][];
  ended: unknown[];
  bytes: Buffer[];
  /** What the SDK's ConsoleSpanExporter prints for the ended spans. */
  printed: unknown[];
  samplerCalls: unknown[];
}

/** The sampler's arguments, recorded, then its own decision. */
function recording(inner: Sampler, calls: unknown[]): Sampler {
  return {
    shouldSample(ctx, traceId, name, kind, attributes, links): SamplingResult {
      calls.push(
        plain({
          parent: trace.getSpanContext(ctx),
          traceId,
          name,
          kind,
          attributes,
          links,
        }),
      );
      return inner.shouldSample(ctx, traceId, name, kind, attributes, links);
    },
    toString: () => inner.toString(),
  };
}

/**
 * An SDK tracer, or a light tracer with the SDK tracer's limits and scope;
 * both hand ended spans to `ended`.
 */
function tracerFor(
  impl: 'sdk' | 'light',
  o: {
    sampler: Sampler;
    ids: SeededIds;
    ended: ReadableSpan[];
    limits?: SpanLimits | undefined;
    keep?: boolean;
    drops?: DropsFn | undefined;
  },
): Tracer | LightTracer {
  const sdkTracer = new BasicTracerProvider({
    resource,
    sampler: o.sampler,
    idGenerator: o.ids,
    spanProcessors: [
      {
        onStart: () => undefined,
        onEnd: (span) => void o.ended.push(span),
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      },
    ],
    ...(o.limits === undefined ? {} : { spanLimits: o.limits }),
  }).getTracer('stacklight', '0.1.0');
  if (impl === 'sdk') return sdkTracer;
  return createLightTracer({
    sampler: o.sampler,
    spanLimits: sdkSpanLimits(sdkTracer)!,
    resource,
    instrumentationScope: (sdkTracer as unknown as ReadableSpan).instrumentationScope,
    onEnd: (span) => void o.ended.push(span),
    idGenerator: o.ids,
    samplerKeepsNoAttributes: o.keep ?? false,
    drops: o.drops,
  });
}

function run(impl: 'sdk' | 'light', c: Case, snapshotEach: boolean, keep = false): Outcome {
  const ended: ReadableSpan[] = [];
  const samplerCalls: unknown[] = [];
  const sampler = recording(c.sampler ?? new AlwaysOnSampler(), samplerCalls);
  const tracer = tracerFor(impl, {
    sampler,
    ids: new SeededIds(42),
    ended,
    limits: c.limits,
    keep,
    drops: c.drops,
  });
  const snapshots: unknown[] = [];
  const calls: unknown[][] = [];
  diagSink = calls;
  try {
    withClock(() => {
      const span = tracer.startSpan(
        'GET /orders/:id',
        { kind: SpanKind.SERVER, ...c.options?.(clock) },
        c.parent ?? ROOT_CONTEXT,
      );
      if (impl === 'light' && span.isRecording()) expect(span).toBeInstanceOf(LightSpan);
      if (snapshotEach) snapshots.push(snapshot(span));
      for (const op of c.ops) {
        op(span, clock);
        if (snapshotEach) snapshots.push(snapshot(span));
      }
      snapshots.push(snapshot(span));
    });
  } finally {
    diagSink = undefined;
  }
  return {
    snapshots,
    diag: calls,
    ended: ended.map((s) => snapshot(s as unknown as Span)),
    bytes: ended.map((s) => {
      const e = new SpanEncoder().encode(s);
      return e.slab.subarray(e.start, e.end);
    }),
    printed: printed(ended),
    samplerCalls,
  };
}

function printed(spans: ReadableSpan[]): unknown[] {
  const out: unknown[] = [];
  const dir = vi.spyOn(console, 'dir').mockImplementation((item) => void out.push(plain(item)));
  try {
    new ConsoleSpanExporter().export(spans, () => undefined);
  } finally {
    dir.mockRestore();
  }
  return out;
}

/**
 * Runs `c` on both spans and expects the same outcome in every respect; the
 * light span both with and without keeping the tracer's attribute object.
 */
function expectSame(c: Case): Outcome {
  const sdk = run('sdk', c, true);
  const hex = (o: Outcome): string[] => o.bytes.map((b) => b.toString('hex'));
  for (const keep of [false, true]) {
    const light = run('light', c, true, keep);
    expect(light.snapshots).toStrictEqual(sdk.snapshots);
    expect(light.diag).toStrictEqual(sdk.diag);
    expect(light.ended).toStrictEqual(sdk.ended);
    if (c.drops === undefined) expect(light.samplerCalls).toStrictEqual(sdk.samplerCalls);
    expect(hex(light)).toStrictEqual(hex(sdk));
    expect(light.printed).toStrictEqual(sdk.printed);
    // Read only at the end (nothing built early by a getter): the same again.
    const lazy = run('light', c, false, keep);
    expect(lazy.snapshots).toStrictEqual(sdk.snapshots.slice(-1));
    expect(lazy.diag).toStrictEqual(sdk.diag);
    expect(hex(lazy)).toStrictEqual(hex(sdk));
  }
  return sdk;
}

const messages = (o: Outcome): string[] =>
  o.diag.map((d) => `${d[0] as string}: ${d[1] as string}`);

// ------------------------------------------------------------------ values

const LONG = 'abcdefghijklmnopqrstuvwxyz';
/** `null` where the API's types allow no null but callers pass one anyway. */
const NULL = null as unknown as string;
const VALUES: unknown[] = [
  '',
  'short',
  LONG,
  'naïve ☕ 𝄞 🚀 text',
  0,
  -1,
  42,
  3.5,
  -0,
  NaN,
  Infinity,
  2 ** 53 + 2,
  true,
  false,
  ['a', LONG, 'c'],
  [1, 2.5, -3],
  [true, false],
  ['a', null, LONG, undefined],
  [null, undefined],
  [],
  ['a', 1],
  [[1]],
  [{}],
  [1, 'a'],
  {},
  { a: 1 },
  null,
  undefined,
  () => 1,
  Symbol('s'),
  10n,
  new Date(0),
  new Uint8Array([1]),
];
const KEYS = ['a', 'b', 'c', 'd', 'e', '', 'http.route', '0', 'a.very.long.attribute.key'];

const SMALL: SpanLimits = {
  attributeCountLimit: 3,
  attributeValueLengthLimit: 5,
  eventCountLimit: 2,
  linkCountLimit: 2,
  attributePerEventCountLimit: 2,
  attributePerLinkCountLimit: 1,
};
const ZERO: SpanLimits = {
  attributeCountLimit: 0,
  attributeValueLengthLimit: 0,
  eventCountLimit: 0,
  linkCountLimit: 0,
  attributePerEventCountLimit: 0,
  attributePerLinkCountLimit: 0,
};
const NEGATIVE: SpanLimits = {
  attributeCountLimit: -1,
  attributeValueLengthLimit: -1,
  eventCountLimit: -1,
  linkCountLimit: -1,
  attributePerEventCountLimit: -1,
  attributePerLinkCountLimit: -1,
};
const LIMITS: (SpanLimits | undefined)[] = [
  undefined,
  SMALL,
  ZERO,
  NEGATIVE,
  { eventCountLimit: 1 },
];

/** Time inputs, from the clock at the moment of the operation. */
const TIMES: ((c: Clock) => unknown)[] = [
  () => undefined,
  (c) => [Math.floor((c.epoch + 3) / 1000), ((c.epoch + 3) % 1000) * 1e6 + 123],
  (c) => c.epoch + 7.25,
  (c) => c.epoch - 10_000,
  (c) => c.perf - 1.5,
  (c) => c.perf + 0.5, // above performance.now(): the SDK reads it as epoch milliseconds
  (c) => c.perf,
  (c) => new Date(c.epoch + 2),
  () => [1_600_000_000, 999_999_999],
  () => 0,
  () => null,
  () => 'not a time',
  () => [1, 2, 3],
];

const REMOTE: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState('vendor=abc,other=x-1'),
};

const setAttr =
  (key: string, value: unknown): Op =>
  (s) =>
    void s.setAttribute(key, value as string);
const end =
  (time: (c: Clock) => unknown = () => undefined): Op =>
  (s, c) =>
    s.end(time(c) as TimeInput);
const tick =
  (ms: number): Op =>
  (_s, c) =>
    c.tick(ms);

// ------------------------------------------------------------------ named cases

describe('LightSpan matches the SDK span', () => {
  it('sets every attribute type and rejects empty keys and invalid values with the same warnings', () => {
    const ops: Op[] = [];
    VALUES.forEach((v, i) => ops.push(setAttr(`k${i}`, v)));
    ops.push(setAttr('', 'x'), setAttr('k0', 'again'), end());
    const sdk = expectSame({ ops });
    expect(messages(sdk)).toContain('warn: Invalid attribute value set for key: k20');
    expect(messages(sdk)).toContain('warn: Invalid attribute key: ');
  });

  it("stores copies of arrays: changing the caller's array afterwards changes nothing", () => {
    for (const limits of [undefined, { attributeValueLengthLimit: 3 }]) {
      // Fresh arrays for each run (the options are read when a run starts).
      let list: string[] = [];
      let numbers: number[] = [];
      expectSame({
        limits,
        options: () => {
          list = ['a', 'b'];
          numbers = [1, 2];
          return { attributes: { start: list } };
        },
        ops: [
          (s) => void s.setAttribute('list', list),
          (s) => void s.setAttribute('numbers', numbers),
          (s) => void s.addEvent('e', { list, numbers }),
          (s) => void s.addLink({ context: REMOTE, attributes: { list } }),
          () => void list.push('changed'),
          () => void numbers.push(3),
          end(),
        ],
      });
    }
  });

  it('counts attributes over the limit as dropped, and still overwrites kept keys', () => {
    expectSame({
      limits: SMALL,
      options: () => ({ attributes: { a: 'one', b: 2, '': 'empty', bad: {} as string } }),
      ops: [
        setAttr('c', true),
        setAttr('d', 'dropped'),
        setAttr('a', 'overwritten'),
        setAttr('e', null),
        setAttr('f', ['x']),
        (s) => void s.setAttributes({ g: 1, a: 'again', h: undefined, i: [1] }),
        end(),
      ],
    });
  });

  it('applies the limits to valid start attributes as well', () => {
    const attributes = { a: 'one', b: 2, c: true, d: 'four', e: 'five' };
    for (const limits of [SMALL, { attributeCountLimit: 5 }, { attributeValueLengthLimit: 3 }]) {
      expectSame({ limits, options: () => ({ attributes }), ops: [setAttr('f', 1), end()] });
    }
    for (const limit of [0, -1, NaN]) {
      expectSame({
        limits: { attributeValueLengthLimit: limit },
        options: () => ({ attributes: { b: 2, c: true } }),
        ops: [end()],
      });
    }
  });

  it('truncates strings and the strings of arrays to the value length limit', () => {
    expectSame({
      limits: { attributeValueLengthLimit: 4 },
      options: () => ({ attributes: { start: LONG, list: ['ab', LONG, null] as string[] } }),
      ops: [
        setAttr('s', LONG),
        setAttr('u', '𝄞𝄞𝄞'),
        setAttr('n', [1, 2, 3]),
        setAttr('b', true),
        (s) => void s.addEvent('e', { s: LONG, l: [LONG] }),
        (s) => void s.addLink({ context: REMOTE, attributes: { s: LONG } }),
        end(),
      ],
    });
  });

  it('warns on every value when the length limit is not positive', () => {
    for (const limit of [0, -1]) {
      const sdk = expectSame({
        limits: { attributeValueLengthLimit: limit },
        options: () => ({ attributes: { a: 'x', '': 'y', b: {} as string } }),
        ops: [setAttr('c', LONG), (s) => void s.addEvent('e', { a: 1 }), end()],
      });
      const warning = `warn: Attribute value limit must be positive, got ${limit}`;
      expect(messages(sdk).filter((m) => m === warning)).toHaveLength(3);
    }
  });

  it('keeps the newest events over the limit, counts the dropped ones and limits their attributes', () => {
    const sdk = expectSame({
      limits: SMALL,
      ops: [
        (s) => void s.addEvent('one'),
        (s) => void s.addEvent('two', { a: 1, b: 2, c: 3, '': 4, bad: {} as string, n: NULL }),
        tick(1.25),
        (s) => void s.addEvent('three', { a: LONG }),
        (s) => void s.addEvent('four'),
        end(),
      ],
    });
    expect(messages(sdk)).toContain('debug: Dropping extra events.');
    expect(messages(sdk)).toContain('warn: Dropped 2 events because eventCountLimit reached');
  });

  it('allows no events with an event count limit of 0', () => {
    const sdk = expectSame({ limits: ZERO, ops: [(s) => void s.addEvent('e'), end()] });
    expect(messages(sdk)).toContain('warn: No events allowed.');
  });

  it('keeps links from the start and added later, with the link and per-link limits', () => {
    const link = (attributes?: Attributes): Link => ({ context: REMOTE, attributes });
    for (const limits of [undefined, SMALL, ZERO]) {
      expectSame({
        limits,
        options: () => ({
          links: [link({ a: 1, b: 2 }), link(), link({ '': 'x', bad: [{}] as unknown as string })],
        }),
        ops: [
          (s) => void s.addLink(link({ z: LONG })),
          (s) => void s.addLinks([link(), link({ n: NULL })]),
          end(),
        ],
      });
    }
  });

  it('applies the status rules: UNSET ignored, OK final, a message only for ERROR and only a string', () => {
    const status =
      (code: SpanStatusCode, message?: unknown): Op =>
      (s) =>
        void s.setStatus({ code, message } as SpanStatus);
    const sequences: Op[][] = [
      [
        status(SpanStatusCode.ERROR, 'boom'),
        status(SpanStatusCode.UNSET),
        status(SpanStatusCode.OK),
      ],
      [status(SpanStatusCode.OK, 'ignored'), status(SpanStatusCode.ERROR, 'late')],
      [status(SpanStatusCode.ERROR, 42), status(SpanStatusCode.ERROR, null)],
      [status(SpanStatusCode.ERROR, { m: 1 }), status(SpanStatusCode.ERROR)],
      [status(SpanStatusCode.ERROR, 'first'), status(SpanStatusCode.ERROR, 'second')],
      [status(7 as SpanStatusCode, 'odd code')],
    ];
    for (const seq of sequences) expectSame({ ops: [...seq, end()] });
  });

  it('records exceptions from strings, errors and objects with code or name', () => {
    const errors: unknown[] = [
      'plain message',
      '',
      new Error('boom'),
      new TypeError('typed'),
      Object.assign(new Error('with code'), { code: 'E_DB' }),
      { code: 42, message: 'numeric code' },
      { code: 0, name: 'ZeroCode', message: 'falsy code' },
      { name: 'OnlyName' },
      { message: 'only message', stack: 'at x' },
      { message: 7 },
      { message: '' },
      {},
      null,
      undefined,
      0,
    ];
    for (const e of errors) {
      expectSame({
        ops: [
          (s) => s.recordException(e as Exception),
          (s, c) => s.recordException(e as Exception, c.epoch + 1),
          end(),
        ],
      });
    }
  });

  it('reads every time form for events and the end as the SDK does', () => {
    for (const time of TIMES) {
      for (const start of [() => undefined, ...TIMES.slice(1, 9)]) {
        expectSame({
          options: (c) => ({ startTime: start(c) as TimeInput }),
          ops: [
            tick(0.4),
            (s, c) => void s.addEvent('at', time(c) as TimeInput),
            (s, c) => void s.addEvent('attrs and time', { a: 1 }, time(c) as TimeInput),
            (s, c) => void s.addEvent('time twice', time(c) as TimeInput, c.epoch + 1),
            tick(1000.3337),
            end(time),
          ],
        });
      }
    }
  });

  it('ignores a second end() with an error message, and every operation after end() with a warning', () => {
    const sdk = expectSame({
      ops: [
        tick(3),
        end(),
        end(),
        setAttr('a', 1),
        setAttr('b', null),
        (s) => void s.setAttributes({ c: 1, d: 2 }),
        (s) => void s.addEvent('late'),
        (s) => void s.addLink({ context: REMOTE }),
        (s) => void s.addLinks([{ context: REMOTE }]),
        (s) => void s.setStatus({ code: SpanStatusCode.ERROR, message: 'late' }),
        (s) => void s.updateName('late'),
        (s) => s.recordException(new Error('late')),
        (s) => s.recordException({} as Exception),
      ],
    });
    const sc = (sdk.snapshots[0] as { spanContext: SpanContext }).spanContext;
    expect(messages(sdk)).toContain(
      `error: GET /orders/:id ${sc.traceId}-${sc.spanId} - You can only call end() on a span once.`,
    );
    expect(messages(sdk)).toContain(
      `warn: Cannot execute the operation on ended Span {traceId: ${sc.traceId}, spanId: ${sc.spanId}}`,
    );
    expect(sdk.ended).toHaveLength(1);
  });

  it('sets an end before the start to the start, with a warning', () => {
    const sdk = expectSame({ ops: [end((c) => c.epoch - 5_000)] });
    expect(messages(sdk)[0]).toMatch(/^warn: Inconsistent start and end time/);
    expectSame({ options: (c) => ({ startTime: c.epoch + 10_000 }), ops: [end()] });
    // A clock that goes back (not performance.now(), but a test's or a VM's may).
    expectSame({ ops: [tick(-5), (s) => void s.addEvent('before'), end()] });
  });

  it('renames the span until it ends', () => {
    expectSame({
      ops: [(s) => void s.updateName('GET /renamed'), end(), (s) => void s.updateName('after')],
    });
  });

  it('takes sampler attributes and trace state, and a sampler that changes what it is given', () => {
    const sampler: Sampler = {
      shouldSample(_ctx, _traceId, _name, _kind, attributes, links) {
        attributes['mutated'] = [1, 2];
        attributes['also'] = {} as string;
        links.push({ context: REMOTE, attributes: { pushed: true } });
        return {
          decision: SamplingDecision.RECORD,
          attributes: { extra: 'x', 'http.request.method': 'OVERRIDE', bad: {} as string, '': 'e' },
          traceState: new TraceState('sampler=1'),
        };
      },
      toString: () => 'custom',
    };
    const sdk = expectSame({
      sampler,
      limits: SMALL,
      parent: trace.setSpanContext(ROOT_CONTEXT, REMOTE),
      options: () => ({ attributes: { 'http.request.method': 'GET', n: NULL } }),
      ops: [end()],
    });
    // RECORD: recording, handed on at end, not sampled.
    expect(sdk.ended).toHaveLength(1);
  });

  // CPU-bound: 12 s on a busy 2-core machine; the timeout only bounds a hang.
  it('matches over a seeded random walk of 400 operation sequences', { timeout: 120_000 }, () => {
    const r = random(20260611);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
    const attributes = (): Attributes => {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) out[pick(KEYS)] = pick(VALUES);
      return out as Attributes;
    };
    const time = (): ((c: Clock) => unknown) => (r() < 0.5 ? () => undefined : pick(TIMES));
    const op = (): Op => {
      switch (Math.floor(r() * 12)) {
        case 0:
        case 1:
        case 2:
          return setAttr(pick(KEYS), pick(VALUES));
        case 3: {
          const a = attributes();
          return (s) => void s.setAttributes(a);
        }
        case 4: {
          const a = attributes();
          const [t1, t2] = [time(), time()];
          const form = Math.floor(r() * 4);
          return (s, c) =>
            void (form === 0
              ? s.addEvent('e')
              : form === 1
                ? s.addEvent('e', a)
                : form === 2
                  ? s.addEvent('e', t1(c) as TimeInput)
                  : s.addEvent('e', a, t2(c) as TimeInput));
        }
        case 5: {
          const links = [{ context: REMOTE, attributes: attributes() }, { context: REMOTE }];
          return r() < 0.5 ? (s) => void s.addLink(links[0]!) : (s) => void s.addLinks(links);
        }
        case 6: {
          const code = pick([SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR]);
          const message = pick(['m', undefined, 3, null]);
          return (s) => void s.setStatus({ code, message } as SpanStatus);
        }
        case 7: {
          const e = pick<unknown>(['msg', new Error('e'), { code: 'X' }, { name: 'N' }, {}]);
          const t = time();
          return (s, c) => s.recordException(e as Exception, t(c) as TimeInput);
        }
        case 8: {
          const name = pick(['GET /a', 'GET /b']);
          return (s) => void s.updateName(name);
        }
        case 9:
        case 10:
          return tick(pick([0, 0.3, 1.7, 999.9999, 1000.25]));
        default:
          return end(time());
      }
    };
    for (let n = 0; n < 400; n++) {
      const ops: Op[] = [];
      for (let i = Math.floor(r() * 25); i > 0; i--) ops.push(op());
      if (r() < 0.8) ops.push(end(time()), op(), op());
      const links = r() < 0.3 ? [{ context: REMOTE, attributes: attributes() }] : undefined;
      const start = r() < 0.8 ? () => undefined : pick(TIMES);
      const startAttributes = attributes();
      expectSame({
        limits: pick(LIMITS),
        parent: r() < 0.5 ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, REMOTE),
        options: (c) => ({ attributes: startAttributes, links, startTime: start(c) as TimeInput }),
        ops,
      });
    }
  });
});

// ------------------------------------------------------------------ sampling

describe('the light tracer decides as the SDK tracer', () => {
  const remote = (
    flags: number,
    traceState?: SpanContext['traceState'],
    traceId = REMOTE.traceId,
  ): Context =>
    trace.setSpanContext(ROOT_CONTEXT, {
      traceId,
      spanId: REMOTE.spanId,
      traceFlags: flags,
      isRemote: true,
      traceState,
    });
  const local = (flags: number): Context =>
    trace.setSpan(
      ROOT_CONTEXT,
      trace.wrapSpanContext({ traceId: REMOTE.traceId, spanId: REMOTE.spanId, traceFlags: flags }),
    );
  const PARENTS: [string, Context, SpanOptions?][] = [
    ['no parent', ROOT_CONTEXT],
    ['sampled remote parent', remote(TraceFlags.SAMPLED)],
    ['unsampled remote parent', remote(TraceFlags.NONE)],
    ['sampled remote parent with trace state', remote(TraceFlags.SAMPLED, REMOTE.traceState)],
    ['unsampled remote parent with trace state', remote(TraceFlags.NONE, REMOTE.traceState)],
    ['remote parent with other flag bits', remote(0x03)],
    ['sampled local parent', local(TraceFlags.SAMPLED)],
    ['unsampled local parent', local(TraceFlags.NONE)],
    ['invalid parent', remote(TraceFlags.SAMPLED, undefined, '0'.repeat(32))],
    ['suppressed tracing', suppressTracing(remote(TraceFlags.SAMPLED))],
    ['root option over a parent', remote(TraceFlags.SAMPLED, REMOTE.traceState), { root: true }],
  ];

  function outcomes(
    impl: 'sdk' | 'light',
    sampler: Sampler,
    ctx: Context,
    o?: SpanOptions,
    drops?: DropsFn,
    droppedFirst = false,
  ): unknown[] {
    const out: unknown[] = [];
    const ended: ReadableSpan[] = [];
    const tracer = tracerFor(impl, {
      sampler,
      ids: new SeededIds(7),
      ended,
      keep: true,
      drops,
    });
    const parentState = trace.getSpanContext(ctx)?.traceState;
    for (let i = 0; i < 64; i++) {
      const startCtx = o?.root === true ? trace.deleteSpan(ctx) : ctx;
      const span =
        (droppedFirst ? (tracer as LightTracer).dropped(startCtx) : undefined) ??
        tracer.startSpan(
          'GET /x',
          { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' }, ...o },
          ctx,
        );
      const sc = span.spanContext();
      out.push({
        recording: span.isRecording(),
        type: span.isRecording() ? 'recording' : span.constructor.name,
        spanContext: plain(sc),
        keysOfSpanContext: Object.keys(sc),
        parentsTraceState: parentState !== undefined && sc.traceState === parentState,
        parent: plain((span as unknown as Partial<ReadableSpan>).parentSpanContext),
        attributes: plain((span as unknown as Partial<ReadableSpan>).attributes),
      });
      span.end();
    }
    out.push({ ended: ended.length });
    return out;
  }

  for (const name of SAMPLERS) {
    for (const ratio of [0, 0.25, 1]) {
      it(`for ${name} (ratio ${ratio}) and every kind of parent`, () => {
        for (const [label, ctx, o] of PARENTS) {
          const sdk = outcomes('sdk', createSampler(name, ratio), ctx, o);
          const light = outcomes('light', createSampler(name, ratio), ctx, o);
          expect(light, label).toStrictEqual(sdk);
          const shortcut = outcomes(
            'light',
            createSampler(name, ratio),
            ctx,
            o,
            samplerDrops(name, ratio),
          );
          expect(shortcut, `${label}, sure drops not sampled`).toStrictEqual(sdk);
          // dropped(): the same span as the SDK's where it is sure, else nothing.
          const early = outcomes(
            'light',
            createSampler(name, ratio),
            ctx,
            o,
            samplerDrops(name, ratio),
            true,
          );
          expect(early, `${label}, dropped() first`).toStrictEqual(sdk);
        }
      });
    }
  }

  it('gives the sampler the same arguments and emits the same debug messages', () => {
    for (const [, ctx, o] of PARENTS) {
      expectSame({
        sampler: createSampler('parentbased_traceidratio', 0.5),
        parent: ctx,
        options: () => ({
          ...o,
          attributes: { a: 1, '': 'x' },
          links: [{ context: REMOTE, attributes: { l: 1 } }],
        }),
        ops: [end()],
      });
    }
  });
});

describe('attributes handed over (OWNED_ATTRIBUTES)', () => {
  function attributesSeen(keep: boolean, owned: boolean) {
    const seen: unknown[] = [];
    const sampler: Sampler = {
      shouldSample: (_c, _t, _n, _k, attributes) => {
        seen.push(attributes);
        return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      },
      toString: () => 'spy',
    };
    const ended: ReadableSpan[] = [];
    const tracer = tracerFor('light', { sampler, ids: new SeededIds(7), ended, keep });
    const attributes = { 'http.request.method': 'GET', 'http.route': '/users/:id' };
    const options: OwnedSpanOptions = { kind: SpanKind.SERVER, attributes };
    if (owned) options[OWNED_ATTRIBUTES] = true;
    const span = tracer.startSpan('GET /users/:id', options);
    span.setAttribute('http.response.status_code', 200);
    span.end();
    return { attributes, seen: seen[0], kept: ended[0]!.attributes };
  }

  it('are used as they are only with a sampler that keeps no reference', () => {
    const given = attributesSeen(true, true);
    expect(given.seen).toBe(given.attributes);
    expect(given.kept).toEqual({
      'http.request.method': 'GET',
      'http.route': '/users/:id',
      'http.response.status_code': 200,
    });
  });

  it('are still copied for a sampler that may keep them, or without the flag', () => {
    for (const [keep, owned] of [
      [false, true],
      [true, false],
    ] as const) {
      const r = attributesSeen(keep, owned);
      expect(r.seen).not.toBe(r.attributes);
      // A sampler that may keep its object never sees the span's later changes.
      if (!keep)
        expect(r.seen).toEqual({ 'http.request.method': 'GET', 'http.route': '/users/:id' });
      // The caller's object is not what the span changed.
      expect(r.attributes).toEqual({ 'http.request.method': 'GET', 'http.route': '/users/:id' });
      expect(r.kept['http.response.status_code']).toBe(200);
    }
  });
});

describe('where the sampler surely drops', () => {
  it('skips it, with the same span and the same warnings and messages', () => {
    const unsampled = trace.setSpanContext(ROOT_CONTEXT, {
      ...REMOTE,
      traceFlags: TraceFlags.NONE,
    });
    const NOT_RECORDING = 'Recording is off, propagating context in a non-recording span';
    let drops = 0;
    for (const name of SAMPLERS) {
      for (const parent of [ROOT_CONTEXT, unsampled]) {
        const sdk = expectSame({
          sampler: createSampler(name, 0),
          drops: samplerDrops(name, 0),
          parent,
          options: () => ({
            attributes: { a: 1, '': 'x', bad: {} as string },
            links: [{ context: REMOTE, attributes: { '': 1, l: [{}] as unknown as string } }],
          }),
          ops: [setAttr('late', 1), end()],
        });
        const dropped = (sdk.snapshots[0] as { recording: boolean }).recording === false;
        if (dropped) drops++;
        expect(messages(sdk).includes(`debug: ${NOT_RECORDING}`)).toBe(dropped);
      }
    }
    expect(drops).toBe(9);
  });
});

// ------------------------------------------------------------------ limits

describe('sdkSpanLimits', () => {
  it("reads the provider's resolved limits, environment variables included", () => {
    vi.stubEnv('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', '7');
    vi.stubEnv('OTEL_SPAN_EVENT_COUNT_LIMIT', '3');
    try {
      const tracer = new NodeTracerProvider({ spanLimits: { linkCountLimit: 5 } }).getTracer('t');
      expect(sdkSpanLimits(tracer)).toStrictEqual({
        attributeCountLimit: 7,
        attributeValueLengthLimit: Infinity,
        eventCountLimit: 3,
        linkCountLimit: 5,
        attributePerEventCountLimit: 128,
        attributePerLinkCountLimit: 128,
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('gives nothing for a tracer that is not an SDK tracer', () => {
    expect(sdkSpanLimits(trace.getTracer('noop'))).toBeUndefined();
  });
});
