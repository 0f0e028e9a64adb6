/**
 * The light SERVER span through the whole pipeline: `init()` with OTLP to a
 * local receiver, the Fastify plugin, spans a handler starts itself, the
 * batch processor, the encoder and the wire. It must be the parent of the
 * handler's spans, arrive with them, be flushed by shutdown, and look exactly
 * like the SDK span it replaces (the same requests with a user span processor
 * configured, which keeps the middleware on the SDK).
 */
import { SpanKind, trace, type Span } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { init, SDK_VERSION, type Telemetry } from '../../src/index.js';
import { LightSpan } from '../../src/tracing/light-span.js';
import { LIGHT_TRACER, type WithLightTracer } from '../../src/tracing/provider.js';
import { withSpan } from '../../src/tracing/with-span.js';
import { createLogCapture } from '../helpers/log-capture.js';
import {
  OTLP_SPAN_KIND,
  startOtlpReceiver,
  type OtlpReceiver,
  type OtlpSpan,
} from '../helpers/otlp-receiver.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

let receiver: OtlpReceiver;
let telemetry: Telemetry | undefined;
let app: FastifyInstance | undefined;
/** The span active in the last handler that ran. */
let active: Span | undefined;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());
afterEach(async () => {
  await app?.close();
  app = undefined;
  await telemetry?.shutdown();
  telemetry = undefined;
});

const idle: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

async function start(
  tracing: { exporter?: 'otlp' | 'none'; spanProcessors?: SpanProcessor[]; delayMs?: number } = {},
): Promise<FastifyInstance> {
  telemetry = init({
    service: 'edge',
    env: 'test',
    logging: { destination: createLogCapture().stream },
    metrics: { defaultMetrics: false },
    tracing: {
      exporter: tracing.exporter ?? 'otlp',
      endpoint: receiver.url,
      scheduledDelayMs: tracing.delayMs ?? 20,
      ...(tracing.spanProcessors === undefined ? {} : { spanProcessors: tracing.spanProcessors }),
    },
  });
  const t = telemetry;
  app = Fastify();
  await app.register(stacklightPlugin, { telemetry: t });
  app.get('/orders/:id', async () => {
    active = trace.getActiveSpan();
    // A user's span from the SDK tracer, under the active context…
    t.tracer.startSpan('load order').end();
    // …and one from the global tracer provider.
    await withSpan('price order', { 'order.items': 2 }, () => undefined);
    return { ok: true };
  });
  app.get('/fail', async () => {
    active = trace.getActiveSpan();
    throw Object.assign(new Error('database unavailable'), { code: 'E_DB' });
  });
  await app.ready();
  return app;
}

const inTrace = (traceId: string) => (spans: OtlpSpan[]) =>
  spans.filter((s) => s.traceId === traceId);

describe('the light server span', () => {
  it('is the parent of the spans a handler starts, and all of them reach the collector', async () => {
    const f = await start();
    expect((telemetry!.tracer as WithLightTracer)[LIGHT_TRACER]).toBeDefined();
    const res = await f.inject({
      url: '/orders/7',
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-01` },
    });
    expect(res.statusCode).toBe(200);
    expect(active).toBeInstanceOf(LightSpan);

    const spans = inTrace(TRACE_ID)(
      await receiver.waitForSpans((all) => inTrace(TRACE_ID)(all).length >= 3),
    );
    const server = spans.find((s) => s.kind === OTLP_SPAN_KIND.SERVER)!;
    expect(server).toMatchObject({
      name: 'HTTP /orders/:id',
      parentSpanId: PARENT_SPAN_ID,
      spanId: active!.spanContext().spanId,
      scope: 'stacklight',
      scopeVersion: SDK_VERSION,
    });
    expect(server.flags).toBe(0x301); // sampled, parent known to be remote
    for (const name of ['load order', 'price order']) {
      const child = spans.find((s) => s.name === name)!;
      expect(child, name).toMatchObject({
        parentSpanId: server.spanId,
        kind: OTLP_SPAN_KIND.INTERNAL,
        scope: 'stacklight',
      });
      expect(child.flags).toBe(0x101); // parent local
    }
  });

  it("shares the SDK tracer's scope object, so that both end up in one ScopeSpans", async () => {
    await start();
    const tracer = telemetry!.tracer as WithLightTracer & { instrumentationScope: object };
    const span = tracer[LIGHT_TRACER]!.startSpan('x', { kind: SpanKind.SERVER });
    expect((span as LightSpan).instrumentationScope).toBe(tracer.instrumentationScope);
    span.end();
  });

  it('is flushed by shutdown', async () => {
    const f = await start({ delayMs: 60_000 });
    const traceId = 'aaaabbbbccccddddeeeeffff00001111';
    await f.inject({
      url: '/orders/1',
      headers: { traceparent: `00-${traceId}-${PARENT_SPAN_ID}-01` },
    });
    await app!.close();
    app = undefined;
    await telemetry!.shutdown();
    telemetry = undefined;
    const spans = inTrace(traceId)(
      await receiver.waitForSpans((all) => inTrace(traceId)(all).length >= 3),
    );
    expect(spans.map((s) => s.name).sort()).toEqual([
      'HTTP /orders/:id',
      'load order',
      'price order',
    ]);
  });

  it('is used without an exporter too, handing its spans to nobody', async () => {
    const f = await start({ exporter: 'none' });
    expect((telemetry!.tracer as WithLightTracer)[LIGHT_TRACER]).toBeDefined();
    expect((await f.inject('/orders/1')).statusCode).toBe(200);
    expect(active).toBeInstanceOf(LightSpan);
    expect(active!.isRecording()).toBe(false); // ended
  });

  it('is not used when the user adds span processors: they get SDK spans', async () => {
    const seen: ReadableSpan[] = [];
    const f = await start({ spanProcessors: [{ ...idle, onEnd: (s) => void seen.push(s) }] });
    expect((telemetry!.tracer as WithLightTracer)[LIGHT_TRACER]).toBeUndefined();
    await f.inject('/orders/1');
    expect(active).not.toBeInstanceOf(LightSpan);
    expect(seen.find((s) => s.kind === SpanKind.SERVER)?.name).toBe('HTTP /orders/:id');
  });

  it('arrives exactly as the SDK span would', async () => {
    const exported = async (
      traceId: string,
      spanProcessors?: SpanProcessor[],
    ): Promise<unknown[]> => {
      const f = await start({ spanProcessors });
      const light = (telemetry!.tracer as WithLightTracer)[LIGHT_TRACER] !== undefined;
      expect(light).toBe(spanProcessors === undefined);
      const headers = { traceparent: `00-${traceId}-${PARENT_SPAN_ID}-01` };
      await f.inject({ url: '/orders/1', headers });
      await f.inject({ url: '/fail', headers });
      await f.inject({ url: '/nope', headers });
      await f.inject({ method: 'POST', url: '/orders/1', headers });
      const spans = await receiver.waitForSpans((all) => inTrace(traceId)(all).length >= 6);
      await app!.close();
      app = undefined;
      await telemetry!.shutdown();
      telemetry = undefined;
      return inTrace(traceId)(spans)
        .filter((s) => s.kind === OTLP_SPAN_KIND.SERVER)
        .map((s) => ({
          ...s,
          traceId: undefined,
          spanId: undefined,
          startTimeUnixNano: undefined,
          endTimeUnixNano: undefined,
          events: s.events.map((e) => ({
            ...e,
            timeUnixNano: undefined,
            attributes: {
              ...e.attributes,
              'exception.stacktrace': typeof e.attributes['exception.stacktrace'],
            },
          })),
          resource: { ...s.resource, 'process.pid': undefined },
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
    };
    const viaLight = await exported('11112222333344445555666677778888');
    const viaSdk = await exported('99990000aaaabbbbccccddddeeeeffff', [idle]);
    expect(viaLight).toHaveLength(4);
    expect(viaLight).toStrictEqual(viaSdk);
  });
});
