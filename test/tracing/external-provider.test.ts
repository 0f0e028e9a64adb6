import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { HttpInstrumentation as HttpInstrumentationT } from '@opentelemetry/instrumentation-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { init, withSpan, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';

/**
 * Mode (b): the service runs its own OpenTelemetry SDK (provider, context
 * manager, propagator, HTTP instrumentation) before init(). stacklight
 * detects it, registers nothing, makes its spans through the global
 * provider (one service.name), enriches the instrumentation's SERVER span
 * instead of opening a second one, and its log lines follow the active span.
 */

const require = createRequire(import.meta.url);
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as {
  HttpInstrumentation: typeof HttpInstrumentationT;
};

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'edge-sdk' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const instrumentation = new HttpInstrumentation({ enabled: false });
const logs = createLogCapture();
let telemetry: Telemetry;

beforeAll(() => {
  // What the Node SDK's start() does.
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  instrumentation.setTracerProvider(provider);
  instrumentation.enable();
  require('node:http');
  telemetry = init({
    service: 'edge',
    tracing: { exporter: 'none' },
    logging: { destination: logs.stream },
    shutdown: { handleCrashes: false },
  });
});

afterAll(async () => {
  await telemetry.shutdown();
  instrumentation.disable();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

describe('an external OpenTelemetry SDK', () => {
  it('is detected: stacklight registers nothing and does not warn about it', () => {
    expect(telemetry.config.tracing.provider).toBe('external');
    expect(logs.lines().filter((l) => l.level === 'warn')).toEqual([]);
  });

  it("enriches the instrumentation's SERVER span; stacklight's spans and log lines join its trace", async () => {
    const app = Fastify();
    await app.register(stacklightPlugin, { telemetry });
    app.get('/orders/:id', async () =>
      withSpan('orders.load', undefined, () => {
        telemetry.logger.info('loading order');
        return { ok: true };
      }),
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/orders/7`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(res.status).toBe(200);
    await app.close();
    await vi.waitFor(() =>
      expect(exporter.getFinishedSpans().some((s) => s.kind === SpanKind.SERVER)).toBe(true),
    );
    const spans = exporter.getFinishedSpans();
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    expect(servers).toHaveLength(1);
    const server = servers[0]!;
    expect(server.attributes['http.route']).toBe('/orders/:id');
    expect(server.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const inner = spans.find((s) => s.name === 'orders.load');
    expect(inner?.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    for (const s of spans) expect(s.resource.attributes['service.name']).toBe('edge-sdk');
    const line = logs.lines().find((l) => l.msg === 'loading order');
    expect(line).toMatchObject({
      traceId: server.spanContext().traceId,
      spanId: inner!.spanContext().spanId,
      route: '/orders/:id',
    });
    const requestLine = logs.lines().find((l) => l.status === 200);
    expect(requestLine?.traceId).toBe(server.spanContext().traceId);
  });
});
