import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { SpanKind, trace } from '@opentelemetry/api';
import type { HttpInstrumentation as HttpInstrumentationT } from '@opentelemetry/instrumentation-http';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';

/**
 * Mode (a): stacklight owns the provider and registers the ecosystem's
 * instrumentations under it. The HTTP instrumentation opens the SERVER span
 * of an incoming request; stacklight enriches it (route, name) instead of
 * opening a second one, and an outgoing http call is its child.
 */

const require = createRequire(import.meta.url);
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as {
  HttpInstrumentation: typeof HttpInstrumentationT;
};

const exporter = new InMemorySpanExporter();
const logs = createLogCapture();
let telemetry: Telemetry;
let downstream: http.Server;
let downstreamPort = 0;

beforeAll(async () => {
  downstream = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => downstream.listen(0, '127.0.0.1', r));
  downstreamPort = (downstream.address() as AddressInfo).port;
  telemetry = init({
    service: 'edge',
    tracing: {
      exporter: 'none',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      instrumentations: [new HttpInstrumentation({ enabled: false })],
    },
    logging: { destination: logs.stream },
    shutdown: { handleCrashes: false },
  });
  // The instrumentation patches `http` when it is next required.
  require('node:http');
});

afterAll(async () => {
  await telemetry.shutdown();
  await new Promise((r) => downstream.close(r));
});

describe('tracing.instrumentations', () => {
  it('gives one SERVER span per request, named by route, with the outgoing call as its child', async () => {
    const app = Fastify();
    await app.register(stacklightPlugin, { telemetry });
    app.get('/users/:id', async () => {
      await new Promise<void>((resolve, reject) => {
        http
          .get(`http://127.0.0.1:${downstreamPort}/profile`, (res) => {
            res.resume();
            res.on('end', resolve);
          })
          .on('error', reject);
      });
      return { ok: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/users/42`);
    expect(res.status).toBe(200);
    await app.close();

    await vi.waitFor(() =>
      expect(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(2),
    );
    const spans = exporter.getFinishedSpans();
    const client = spans.find((s) => s.kind === SpanKind.CLIENT);
    expect(client, 'the outgoing call was traced').toBeDefined();
    // Two SERVER spans: this request's, and the downstream's (a child of the call).
    const servers = spans.filter(
      (s) =>
        s.kind === SpanKind.SERVER && s.parentSpanContext?.spanId !== client!.spanContext().spanId,
    );
    expect(servers).toHaveLength(1);
    const server = servers[0]!;
    expect(server.attributes['http.route']).toBe('/users/:id');
    expect(server.name).toContain('/users/:id');
    expect(client!.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(client!.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
