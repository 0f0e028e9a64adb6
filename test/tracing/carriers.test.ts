import { createServer, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type SpanContext,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  contextFromCarrier,
  createTraceCarriers,
  extractContext,
  injectContext,
  TRACE_CARRIER_KEY,
  traceCarrier,
  type TraceCarrier,
  type TraceCarrierHolder,
} from '../../src/tracing/index.js';
import { setupTracing, SPAN_ID, TRACE_ID, TRACEPARENT, type TracingHarness } from './harness.js';

const TRACESTATE = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE';

/** A context as if a span with the spec's example ids were active, with tracestate and baggage. */
function sourceContext(): Context {
  const remote = trace.getSpanContext(
    extractContext({ traceparent: TRACEPARENT, tracestate: TRACESTATE }, 'record', ROOT_CONTEXT),
  )!;
  const spanContext: SpanContext = { ...remote, isRemote: false };
  const withSpan = trace.setSpanContext(ROOT_CONTEXT, spanContext);
  return propagation.setBaggage(
    withSpan,
    propagation.createBaggage({ tenant: { value: 'acme' }, plan: { value: 'pro' } }),
  );
}

/** Asserts that `ctx` holds the source trace context and baggage. */
function expectSource(ctx: Context): void {
  const spanContext = trace.getSpanContext(ctx);
  expect(spanContext).toMatchObject({
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: 1,
    isRemote: true,
  });
  expect(spanContext!.traceState!.serialize()).toBe(TRACESTATE);
  const baggage = propagation.getBaggage(ctx);
  expect(baggage?.getEntry('tenant')?.value).toBe('acme');
  expect(baggage?.getEntry('plan')?.value).toBe('pro');
}

describe('without any global registration', () => {
  it('the global propagator is the no-op one', () => {
    expect(propagation.fields()).toEqual([]);
  });

  it('traceCarrier gives traceparent, tracestate and baggage', () => {
    expect(traceCarrier(sourceContext())).toEqual({
      traceparent: TRACEPARENT,
      tracestate: TRACESTATE,
      baggage: 'tenant=acme,plan=pro',
    });
  });

  it('traceCarrier is undefined when there is nothing to carry', () => {
    expect(traceCarrier(ROOT_CONTEXT)).toBeUndefined();
  });

  it('traceCarrier carries baggage without a span', () => {
    const ctx = propagation.setBaggage(
      ROOT_CONTEXT,
      propagation.createBaggage({ k: { value: 'v' } }),
    );
    expect(traceCarrier(ctx)).toEqual({ baggage: 'k=v' });
  });
});

describe('Node IncomingHttpHeaders', () => {
  it('round-trips through a header record', () => {
    const headers: IncomingHttpHeaders = {};
    injectContext(headers, sourceContext(), 'http');
    expect(headers).toEqual({
      traceparent: TRACEPARENT,
      tracestate: TRACESTATE,
      baggage: 'tenant=acme,plan=pro',
    });
    expectSource(extractContext(headers, 'http', ROOT_CONTEXT));
  });

  it('combines array-valued tracestate headers', () => {
    const headers: IncomingHttpHeaders = {
      traceparent: TRACEPARENT,
      tracestate: ['rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE'],
    };
    const ctx = extractContext(headers, 'http', ROOT_CONTEXT);
    expect(trace.getSpanContext(ctx)!.traceState!.serialize()).toBe(TRACESTATE);
  });

  it('starts a new trace for several traceparent headers', () => {
    const headers = { traceparent: [TRACEPARENT, `00-${'1'.repeat(32)}-${SPAN_ID}-01`] };
    expect(extractContext(headers, 'http', ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });

  describe('over a real node:http server', () => {
    let received: IncomingMessage | undefined;
    const server = createServer((req, res) => {
      received = req;
      res.end();
    });
    let port = 0;

    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    /** Sends raw header pairs (repeats allowed) and returns the server's view. */
    async function send(pairs: Array<[string, string]>): Promise<IncomingMessage> {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'GET', path: '/' }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        for (const [name, value] of pairs) {
          const previous = req.getHeader(name);
          req.setHeader(
            name,
            previous === undefined ? value : [...[previous].flat().map(String), value],
          );
        }
        req.on('error', reject);
        req.end();
      });
      return received!;
    }

    it('extracts what a fetch client injected', async () => {
      await fetch(`http://127.0.0.1:${port}/`, {
        headers: injectContext(new Headers(), sourceContext()),
      });
      expectSource(extractContext(received!.headers, 'http', ROOT_CONTEXT));
    });

    it('extracts repeated tracestate headers from headersDistinct (string[] values)', async () => {
      const req = await send([
        ['TraceParent', TRACEPARENT],
        ['tracestate', 'rojo=00f067aa0ba902b7'],
        ['tracestate', 'congo=t61rcWkgMzE'],
      ]);
      const ctx = extractContext(req.headersDistinct, 'http', ROOT_CONTEXT);
      expect(trace.getSpanContext(ctx)!.traceState!.serialize()).toBe(TRACESTATE);
      // node:http joins them with ", " in req.headers; OWS is allowed there.
      const joined = extractContext(req.headers, 'http', ROOT_CONTEXT);
      expect(trace.getSpanContext(joined)!.traceState!.serialize()).toBe(TRACESTATE);
    });

    it('starts a new trace for repeated traceparent headers, joined or distinct', async () => {
      const req = await send([
        ['traceparent', TRACEPARENT],
        ['traceparent', `00-${'1'.repeat(32)}-${SPAN_ID}-01`],
        ['tracestate', 'a=1'],
      ]);
      expect(extractContext(req.headers, 'http', ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
      expect(extractContext(req.headersDistinct, 'http', ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    });
  });
});

describe('fetch Headers', () => {
  it('round-trips', () => {
    const headers = injectContext(new Headers(), sourceContext());
    expect(headers.get('traceparent')).toBe(TRACEPARENT);
    expectSource(extractContext(headers, 'fetch', ROOT_CONTEXT));
  });

  it('is detected without a kind', () => {
    const headers = injectContext(new Headers(), sourceContext());
    expectSource(extractContext(headers, undefined, ROOT_CONTEXT));
  });

  it('starts a new trace when traceparent was appended twice', () => {
    const headers = new Headers();
    headers.append('traceparent', TRACEPARENT);
    headers.append('traceparent', TRACEPARENT);
    expect(extractContext(headers, 'fetch', ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });
});

describe('plain records', () => {
  it('round-trips', () => {
    const record = injectContext({} as Record<string, string>, sourceContext(), 'record');
    expectSource(extractContext(record, 'record', ROOT_CONTEXT));
  });

  it('matches header names case-insensitively', () => {
    const record = { TraceParent: TRACEPARENT, TRACESTATE, Baggage: 'tenant=acme,plan=pro' };
    expectSource(extractContext(record, undefined, ROOT_CONTEXT));
  });
});

describe('job data', () => {
  it('round-trips through JSON under _trace', () => {
    const data = injectContext({ userId: 'u_1' }, sourceContext(), 'job');
    const stored = JSON.parse(JSON.stringify(data)) as TraceCarrierHolder & { userId: string };
    expect(stored).toEqual({
      userId: 'u_1',
      _trace: { traceparent: TRACEPARENT, tracestate: TRACESTATE, baggage: 'tenant=acme,plan=pro' },
    });
    expectSource(extractContext(stored, 'job', ROOT_CONTEXT));
    expectSource(extractContext(stored, undefined, ROOT_CONTEXT));
  });

  it('removes a stale carrier when there is nothing to carry', () => {
    const data = { userId: 'u_1', [TRACE_CARRIER_KEY]: { traceparent: TRACEPARENT } };
    expect(injectContext(data, ROOT_CONTEXT, 'job')).toEqual({ userId: 'u_1' });
  });

  it('never throws for frozen data', () => {
    const data = Object.freeze({ userId: 'u_1' });
    expect(injectContext(data, sourceContext(), 'job')).toBe(data);
  });

  it('ignores carriers that are not string fields', () => {
    const inputs: unknown[] = [
      { _trace: 'x' },
      { _trace: null },
      { _trace: [TRACEPARENT] },
      { _trace: { traceparent: 42 } },
      { _trace: { traceparent: [TRACEPARENT] } },
    ];
    for (const data of inputs) expect(extractContext(data, 'job', ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });
});

describe('event envelopes', () => {
  it('round-trips a traceCarrier stored in the envelope', () => {
    const envelope = {
      id: 'e_1',
      type: 'trade.scored',
      [TRACE_CARRIER_KEY]: traceCarrier(sourceContext()),
    };
    const wire = JSON.parse(JSON.stringify(envelope)) as typeof envelope;
    expectSource(contextFromCarrier(wire._trace, ROOT_CONTEXT));
    expectSource(extractContext(wire, 'envelope', ROOT_CONTEXT));
  });

  it('drops tracestate when the carried traceparent is invalid', () => {
    const carrier: TraceCarrier = {
      traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01`,
      tracestate: 'a=1',
    };
    expect(trace.getSpanContext(contextFromCarrier(carrier, ROOT_CONTEXT))).toBeUndefined();
  });
});

describe('hostile carriers', () => {
  it('never throw and leave the context unchanged', () => {
    const inputs: unknown[] = [
      undefined,
      null,
      42,
      'traceparent',
      [],
      [TRACEPARENT],
      { traceparent: 42 },
    ];
    for (const carrier of inputs) {
      expect(extractContext(carrier, undefined, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
      expect(contextFromCarrier(carrier, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    }
    const throwing = {
      get traceparent(): string {
        throw new Error('boom');
      },
    };
    expect(extractContext(throwing, 'record', ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });
});

describe('createTraceCarriers', () => {
  it('binds the helpers to another propagator', () => {
    const custom: TextMapPropagator = {
      inject: (_ctx, carrier, setter) => setter.set(carrier, 'x-custom', 'yes'),
      extract: (ctx) => ctx.setValue(Symbol.for('test.custom'), true),
      fields: () => ['x-custom'],
    };
    const carriers = createTraceCarriers(custom);
    expect(carriers.traceCarrier(ROOT_CONTEXT)).toEqual({ 'x-custom': 'yes' });
    expect(
      carriers.extractContext({}, 'record', ROOT_CONTEXT).getValue(Symbol.for('test.custom')),
    ).toBe(true);
  });
});

describe('active context defaults', () => {
  let harness: TracingHarness;
  beforeAll(() => {
    harness = setupTracing();
  });
  afterAll(async () => {
    await harness.teardown();
  });

  it('inject and traceCarrier read the active span', () => {
    harness.tracer.startActiveSpan('parent', (span) => {
      const { traceId, spanId } = span.spanContext();
      expect(traceCarrier()?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      expect(injectContext({} as Record<string, string>).traceparent).toBe(
        `00-${traceId}-${spanId}-01`,
      );
      span.end();
    });
  });

  it('a span started in the extracted context continues the remote trace', () => {
    const ctx = extractContext({ _trace: { traceparent: TRACEPARENT } }, 'job');
    context.with(ctx, () => {
      const span = harness.tracer.startSpan('import.page');
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      span.end();
    });
    const [exported] = harness.exporter.getFinishedSpans().filter((s) => s.name === 'import.page');
    expect(exported?.parentSpanContext?.spanId).toBe(SPAN_ID);
  });
});
