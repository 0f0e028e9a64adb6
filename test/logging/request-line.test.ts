/**
 * The HTTP request line is assembled directly (logging/request-line.ts)
 * instead of through pino's generic path. These tests write the same line
 * both ways, in the same context, and require the same text (timestamp
 * aside): fields, order, escaping, scrubbing, trace ids. And they check that
 * whatever could make the generic path differ sends the line through it.
 */
import { context, trace, TraceFlags, type ContextManager, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runWithContext,
  runWithContexts,
  sharesTraceContext,
  StacklightContextManager,
  type TelemetryContext,
} from '../../src/context.js';
import { isLowerHex } from '../../src/logging/context-fields.js';
import { millisText, requestLineOf } from '../../src/logging/request-line.js';
import { testLogger, type TestLogger } from './fixtures.js';

const SPAN = trace.wrapSpanContext({
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
});

const noTs = (text: string): string => text.replace(/"ts":"[^"]*"/g, '"ts":"-"');

/** The line written by the direct path and by pino, in the same context. */
function both(
  t: TestLogger,
  ctx: TelemetryContext | undefined,
  span: Span | undefined,
  level: string,
  status: number,
  latency: number,
  msg: string,
): { direct: string; pino: string; took: boolean } {
  const writer = requestLineOf(t.logger)!;
  const otel = span === undefined ? context.active() : trace.setSpan(context.active(), span);
  const run = (fn: () => void): void => {
    // As the HTTP lifecycle enters a request (HttpLifecycle.enter).
    if (ctx === undefined) context.with(otel, fn);
    else if (sharesTraceContext()) runWithContexts(otel, ctx, fn);
    else context.with(otel, () => runWithContext(ctx, fn));
  };
  t.capture.clear();
  let took = false;
  run(() => {
    took = writer(level, status, latency, msg);
  });
  const direct = t.capture.text();
  t.capture.clear();
  run(() =>
    (t.logger[level as 'info'] as (o: object, m: string) => void).call(
      t.logger,
      { status, latency_ms: latency },
      msg,
    ),
  );
  const viaPino = t.capture.text();
  t.capture.lines(); // schema-validates what pino wrote
  return { direct: noTs(direct), pino: noTs(viaPino), took };
}

describe('request line written directly', () => {
  const cases: [string, TelemetryContext | undefined, Span | undefined, number][] = [
    ['a plain request', { requestId: 'r-1', method: 'GET', route: '/users/:id' }, SPAN, 200],
    ['no context, no span', undefined, undefined, 200],
    ['a user id', { requestId: 'r-2', userId: 'u_42', method: 'POST', route: '/x' }, SPAN, 201],
    [
      'strings to escape',
      { requestId: 'r-3', method: '_OTHER', route: '/a"b\\c/ünï/\u0001' },
      undefined,
      404,
    ],
    [
      'secrets in context strings',
      {
        requestId: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl',
        userId: 'jane.doe@example.com',
        method: 'GET',
        route: '/reset/Bearer abcdefghijklmnopqrstuvwxyz012345',
      },
      SPAN,
      500,
    ],
    ['a 4xx', { requestId: 'r-4', method: 'DELETE', route: 'unmatched' }, SPAN, 404],
  ];

  // The trace context comes from stacklight's store when its context manager
  // is registered, else from whichever manager another SDK registered.
  const managers: [string, () => ContextManager, boolean][] = [
    ['stacklight context manager', () => new StacklightContextManager(), true],
    ["another SDK's context manager", () => new AsyncLocalStorageContextManager(), false],
  ];
  for (const [managerName, makeManager, shared] of managers) {
    describe(`with ${managerName}`, () => {
      beforeAll(() => {
        context.setGlobalContextManager(makeManager().enable());
      });
      afterAll(() => {
        context.disable();
      });

      for (const [name, ctx, span, status] of cases) {
        it(`writes exactly what pino writes: ${name}`, () => {
          expect(sharesTraceContext()).toBe(shared);
          const t = testLogger();
          const r = both(
            t,
            ctx,
            span,
            status >= 500 ? 'error' : 'info',
            status,
            12.345,
            'request completed',
          );
          expect(r.took).toBe(true);
          expect(r.direct).toBe(r.pino);
          expect(r.direct).not.toContain('jane.doe@example.com');
          expect(r.direct).not.toContain('abcdefghijklmnopqrstuvwxyz012345');
          if (span !== undefined)
            expect(r.direct).toContain(`"traceId":"${span.spanContext().traceId}"`);
        });
      }
    });
  }

  it('scrubs a route or method on every line, not only the first (each redaction counted)', () => {
    const t = testLogger();
    const writer = requestLineOf(t.logger)!;
    const ctx = { requestId: 'r', method: 'GET', route: '/to/jane.doe@example.com' };
    for (let i = 0; i < 3; i++) {
      expect(runWithContexts(context.active(), ctx, () => writer('info', 200, 1, 'm'))).toBe(true);
    }
    const lines = t.capture.lines() as Array<Record<string, unknown>>;
    expect(lines.map((l) => l.route)).toEqual(Array(3).fill('/to/[EMAIL]'));
    expect(t.redactions).toEqual(['email', 'email', 'email']);
  });

  it('writes nothing for a level the logger does not write, as pino', () => {
    const t = testLogger({ level: 'warn' });
    const r = both(t, { requestId: 'r', method: 'GET', route: '/' }, SPAN, 'info', 200, 1, 'm');
    expect(r.took).toBe(true);
    expect(r.direct).toBe('');
    expect(r.pino).toBe('');
  });

  it('leaves the line to pino when redact paths are configured', () => {
    const t = testLogger({ redactPaths: ['userId'] });
    const r = both(
      t,
      { requestId: 'r', userId: 'u1', method: 'GET', route: '/' },
      SPAN,
      'info',
      200,
      1,
      'm',
    );
    expect(r.took).toBe(false);
    expect(r.direct).toBe('');
    expect(r.pino).toContain('"userId":"[REDACTED]"');
  });

  it('leaves the line to pino for context fields it does not handle', () => {
    const t = testLogger();
    const ctx = { requestId: 'r', method: 'GET', route: '/', jobId: 'j1' };
    expect(both(t, ctx, SPAN, 'info', 200, 1, 'm').took).toBe(false);
    const odd = { requestId: 42 as unknown as string, method: 'GET', route: '/' };
    expect(both(t, odd, SPAN, 'info', 200, 1, 'm').took).toBe(false);
  });

  it('scrubs nothing before deciding to leave a line to pino (no redaction counted twice)', () => {
    const t = testLogger();
    const ctx = {
      requestId: 'r',
      userId: 'jane.doe@example.com',
      method: 'GET',
      route: 42 as unknown as string,
    };
    const writer = requestLineOf(t.logger)!;
    const took = runWithContexts(context.active(), ctx, () => writer('info', 200, 1, 'm'));
    expect(took).toBe(false);
    expect(t.redactions).toEqual([]);
    expect(t.capture.text()).toBe('');
  });

  it('leaves fatal and silent to pino', () => {
    const t = testLogger();
    expect(requestLineOf(t.logger)!('fatal', 500, 1, 'm')).toBe(false);
    expect(requestLineOf(t.logger)!('silent', 500, 1, 'm')).toBe(false);
  });

  it('is not offered on child loggers', () => {
    const t = testLogger();
    expect(requestLineOf(t.logger.child({ component: 'x' }))).toBeUndefined();
  });

  it('follows root bindings set later (setBindings with non-schema keys go to pino)', () => {
    const t = testLogger();
    t.logger.setBindings({ component: 'api' });
    const r = both(t, { requestId: 'r', method: 'GET', route: '/' }, SPAN, 'info', 200, 1, 'm');
    expect(r.took).toBe(false);
    expect(r.pino).toContain('"component":"api"');
  });
});

describe('latency text', () => {
  it('is String() of every latency the middleware computes, and of anything else', () => {
    const latency = (seconds: number): number => Math.round(seconds * 1e6) / 1e3;
    // Every microsecond up to 300 ms, then random ones up to the integer fast path's edge and past it.
    for (let us = 0; us <= 300_000; us++) {
      const ms = us / 1000;
      if (millisText(ms) !== String(ms)) expect(millisText(ms)).toBe(String(ms));
    }
    let seed = 7;
    const next = (): number => (seed = (seed * 48271) % 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 100_000; i++) {
      const ms = latency(next() * 2 ** 31 * 1e-6 * (i % 2 === 0 ? 1 : 1000));
      if (millisText(ms) !== String(ms)) expect(millisText(ms)).toBe(String(ms));
    }
    for (const odd of [
      0.0004,
      1.2345,
      1e-7,
      -1,
      -0,
      1073741.823,
      1073741.824,
      1e21,
      2 ** 53,
      NaN,
      Infinity,
    ]) {
      expect(millisText(odd)).toBe(String(odd));
    }
  });
});

describe('trace and span id check', () => {
  it('accepts exactly what the schema patterns accept', () => {
    const patterns = { 32: /^[0-9a-f]{32}$/, 16: /^[0-9a-f]{16}$/ } as const;
    const base = '4bf92f3577b34da6a3ce929d0e0e4736';
    for (const length of [16, 32] as const) {
      const valid = base.slice(0, length);
      const cases = [
        valid,
        '',
        valid.slice(1),
        valid + '0',
        valid.toUpperCase(),
        '0'.repeat(length),
      ];
      // Every character code up to U+017F (and a surrogate) at the first, middle and last position.
      for (const at of [0, length >> 1, length - 1]) {
        for (let c = 0; c <= 0x17f; c++) {
          cases.push(valid.slice(0, at) + String.fromCharCode(c) + valid.slice(at + 1));
        }
        cases.push(valid.slice(0, at) + '\ud800' + valid.slice(at + 1));
      }
      for (const s of cases)
        expect([s, isLowerHex(s, length)]).toEqual([s, patterns[length].test(s)]);
    }
  });
});
