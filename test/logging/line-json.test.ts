/**
 * Lines of createLogger's loggers are serialized by stacklight's own
 * `asJson` (logging/line-json.ts) instead of pino's. These tests write the
 * same calls through two identical loggers, one with pino's `asJson`
 * restored, and require the same text (timestamp aside): fields, order,
 * escaping, nested values, messages, children. And they check that what
 * pino would treat differently (child serializers, child redact paths,
 * `formatters.log`, a diagnostics subscriber) still gets pino's treatment.
 */
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { runWithContext, runWithContexts, type TelemetryContext } from '../../src/context.js';
import { jsonString } from '../../src/logging/line-json.js';
import type { LoggerSetup } from '../../src/logging/index.js';
import { EXOTIC_CASES, KEY_CASES, STRING_CASES } from './adversarial.js';
import { testLogger, TYPICAL_FIELDS, type TestLogger } from './fixtures.js';

const ASJSON = pino.symbols.asJsonSym;
const noTs = (text: string): string => text.replace(/"ts":"[^"]*"/g, '"ts":"-"');

/** Two loggers of the same setup: stacklight's serializer, and pino's restored. */
function pair(setup: Partial<LoggerSetup> = {}): { ours: TestLogger; theirs: TestLogger } {
  const ours = testLogger(setup);
  const theirs = testLogger(setup);
  // Root redact paths keep pino's asJson (see "what stays with pino").
  const installed = setup.redactPaths === undefined;
  expect(Object.prototype.hasOwnProperty.call(ours.logger, ASJSON)).toBe(installed);
  delete (theirs.logger as unknown as Record<symbol, unknown>)[ASJSON];
  return { ours, theirs };
}

/** Runs `log` on both loggers and returns both outputs, timestamps blanked. */
function both(
  p: { ours: TestLogger; theirs: TestLogger },
  log: (logger: pino.Logger) => void,
): { ours: string; theirs: string } {
  p.ours.capture.clear();
  p.theirs.capture.clear();
  log(p.ours.logger);
  log(p.theirs.logger);
  return { ours: noTs(p.ours.capture.text()), theirs: noTs(p.theirs.capture.text()) };
}

const SPAN = trace.wrapSpanContext({
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
});

/** Strings at the edges of pino's escaping: quotes, backslashes, controls, surrogates, length 100. */
const AWKWARD = [
  '',
  'plain',
  'a"b',
  'back\\slash',
  '\\"',
  'tab\there',
  'nl\nthere',
  '\u0000',
  '\u001f',
  '\u007f del',
  'ünïcödé ✓ 漢字',
  '😀 emoji',
  'lone \ud800 high',
  'lone \udc00 low',
  'lone \ud800 and "quote"',
  'x'.repeat(99) + '"',
  'x'.repeat(100),
  'x'.repeat(100) + '"',
  '"'.repeat(101),
  'y'.repeat(150) + '\n',
  '\u2028\u2029 separators',
  'lone \ud800 past 100 ' + 'x'.repeat(100),
  '"quoted" past 100 ' + 'x'.repeat(100),
];

describe('jsonString', () => {
  it('is JSON that parses back to the string', () => {
    for (const s of AWKWARD) {
      if (/[\ud800-\udfff]/.test(s)) continue; // pino writes lone surrogates raw
      expect(JSON.parse(jsonString(s))).toBe(s);
    }
  });
});

describe("lines serialized by stacklight's asJson", () => {
  const calls: Array<[string, (l: pino.Logger) => void]> = [
    ['the typical request line', (l) => l.info({ ...TYPICAL_FIELDS }, 'request completed')],
    ['a message only', (l) => l.info('hello')],
    ['printf arguments', (l) => l.warn('%s took %d ms %o', 'job', 42, { a: '"x"' })],
    ['fields, no message', (l) => l.info({ status: 204 })],
    ['an empty object', (l) => l.info({})],
    ['null', (l) => l.info(null)],
    ['an Error', (l) => l.error(new Error('boom "quoted"'))],
    ['err and error', (l) => l.error({ err: new Error('a'), error: new Error('b') }, 'both')],
    ['unknown and nested keys', (l) => l.info({ a: 1, b: { c: [1, 'two', null] }, d: true }, 'x')],
    ['an extra of its own', (l) => l.info({ extra: { k: 'v', n: 1 }, zz: 2 }, 'extra')],
    [
      'wrong types',
      (l) => l.info({ status: '200', latency_ms: NaN, traceId: 'nothex' }, 'wrong types'),
    ],
    [
      'numbers',
      (l) => l.info({ latency_ms: -0, status: 599, n: 1e21, m: -1.5e-7, i: Infinity }, 'n'),
    ],
    ['odd values', (l) => l.info({ f: () => 1, u: undefined, s: Symbol('s'), b: 10n }, 'odd')],
    ['an undefined field', (l) => l.info({ route: undefined, status: 200 }, 'u')],
    ['a numeric message', (l) => l.info(42 as unknown as string)],
    ['an object message', (l) => l.info({ status: 200 }, { nested: 'msg' } as unknown as string)],
    [
      'secrets',
      (l) =>
        l.info(
          { route: '/reset/jane@example.com', headers: { authorization: 'Bearer abcdefghij' } },
          'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln for kim@example.com',
        ),
    ],
    [
      'a getter',
      (l) => l.info(Object.defineProperty({}, 'route', { get: () => '/g', enumerable: true }), 'g'),
    ],
  ];
  for (const s of AWKWARD) {
    calls.push([
      `an awkward string ${JSON.stringify(s.slice(0, 24))}`,
      (l) => l.info({ route: s, requestId: s, extra: { s } }, s),
    ]);
  }

  for (const [name, log] of calls) {
    it(`writes what pino writes: ${name}`, () => {
      const p = pair();
      const r = both(p, log);
      expect(r.ours).not.toBe('');
      expect(r.ours).toBe(r.theirs);
      // Whatever it wrote is one schema-valid line.
      expect(p.ours.capture.lines()).toHaveLength(1);
    });
  }

  it('writes what pino writes for every adversarial record', () => {
    for (const c of [...KEY_CASES, ...STRING_CASES, ...EXOTIC_CASES]) {
      const p = pair(c.setup);
      const r = both(p, (l) =>
        c.context ? runWithContext(c.context as TelemetryContext, () => c.log(l)) : c.log(l),
      );
      expect(r.ours, c.name).toBe(r.theirs);
    }
  });

  it('writes what pino writes inside a request with a span, and for child loggers', () => {
    const p = pair();
    const ctx: TelemetryContext = { requestId: 'r-9', route: '/a/:b', method: 'POST', userId: 'u' };
    const otel = trace.setSpan(context.active(), SPAN);
    const r = both(p, (l) =>
      runWithContexts(otel, ctx, () => {
        l.info({ status: 201, latency_ms: 3 }, 'in a request');
        const child = l.child({ queue: 'emails', tenant: 'acme', email: 'x@example.com' });
        child.warn({ attempt: 2 }, 'child line');
        child.child({ job: 'send' }).error({ extra: { more: 1 } }, 'grandchild');
        child.setBindings({ route: '/rebound' });
        child.info('after setBindings');
      }),
    );
    expect(r.ours.split('\n')).toHaveLength(5);
    expect(r.ours).toBe(r.theirs);
    expect(r.ours).not.toContain('x@example.com');
  });

  it('writes what pino writes for random strings in every position', () => {
    const alphabet = ['a', 'Z', '0', ' ', '"', '\\', 'é', '✓', '😀', '\ud800', '\udc00', '@', '='];
    const controls = ['\n', '\u0001', '\u001f'];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const str = (): string => {
      const len = [0, 1, 5, 99, 100, 101, 130][rand(7)] as number;
      let s = '';
      for (let i = 0; i < len; i++) s += alphabet[rand(alphabet.length)];
      // A control character in one string out of four: it decides the escaping.
      if (rand(4) === 0) {
        const at = rand(s.length + 1);
        s = s.slice(0, at) + (controls[rand(controls.length)] as string) + s.slice(at);
      }
      return s;
    };
    const p = pair();
    for (let i = 0; i < 300; i++) {
      const fields = { route: str(), method: str(), [str()]: str(), extra: { [str()]: str() } };
      const msg = str();
      const r = both(p, (l) => l.info(fields, msg));
      expect(r.ours, JSON.stringify([fields, msg])).toBe(r.theirs);
    }
  });
});

describe('a getter that throws when read a second time', () => {
  it('costs the fields of the line, not the log call', () => {
    const t = testLogger();
    let reads = 0;
    const fields = Object.defineProperty({ status: 200 }, 'route', {
      enumerable: true,
      get: () => {
        reads += 1;
        if (reads > 1) throw new Error('second read');
        return '/once';
      },
    });
    t.capture.clear();
    expect(() => t.logger.info(fields, 'still written')).not.toThrow();
    expect(t.capture.lines()).toEqual([
      expect.objectContaining({ msg: 'still written', extra: { fields: '[Unserializable]' } }),
    ]);
  });
});

describe("what stays with pino's asJson", () => {
  it("applies a child's own serializers", () => {
    const t = testLogger();
    const child = t.logger.child({}, { serializers: { route: (r: string) => r.toUpperCase() } });
    t.capture.clear();
    child.info({ route: '/lower' }, 'm');
    expect(t.capture.lines()[0]).toMatchObject({ route: '/LOWER' });
  });

  it("applies a child's redact paths", () => {
    const t = testLogger();
    const child = t.logger.child({}, { redact: ['route'] });
    t.capture.clear();
    child.info({ route: '/secret-route' }, 'm');
    expect(t.capture.text()).not.toContain('/secret-route');
    expect(t.capture.lines()[0]).toMatchObject({ route: '[REDACTED]' });
  });

  it("applies a child's formatters.log", () => {
    const t = testLogger();
    const child = t.logger.child(
      {},
      { formatters: { log: (o: object) => ({ ...o, route: '/formatted' }) } },
    );
    t.capture.clear();
    child.info({ route: '/given' }, 'm');
    expect(t.capture.lines()[0]).toMatchObject({ route: '/formatted' });
  });

  it("applies the root's redact paths", () => {
    const t = testLogger({ redactPaths: ['userId'] });
    t.capture.clear();
    t.logger.info({ userId: 'u-secret' }, 'm');
    expect(t.capture.text()).not.toContain('u-secret');
  });

  it("publishes every line on pino's pino_asJson tracing channel to a subscriber", () => {
    const t = testLogger();
    const seen: unknown[] = [];
    const onStart = (message: unknown): void => {
      seen.push((message as { arguments: unknown[] }).arguments[1]);
    };
    subscribe('tracing:pino_asJson:start', onStart);
    try {
      t.logger.info({ status: 200 }, 'observed');
    } finally {
      unsubscribe('tracing:pino_asJson:start', onStart);
    }
    expect(seen).toEqual(['observed']);
    t.logger.info('not observed');
    expect(seen).toHaveLength(1);
    expect(t.capture.lines().map((l) => l['msg'])).toEqual(['observed', 'not observed']);
  });
});
