import { SpanKind } from '@opentelemetry/api';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServiceClient } from '../../src/clients/index.js';
import type { Telemetry } from '../../src/index.js';
import { parseTraceParent } from '../../src/tracing/index.js';
import type { LogCapture } from '../helpers/log-capture.js';
import { initForTest, rejection, startServer, type TestServer } from './fixtures.js';

let telemetry: Telemetry;
let logs: LogCapture;
let spans: InMemorySpanExporter;
let server: TestServer;

beforeAll(async () => {
  ({ telemetry, spans, logs } = initForTest('edge'));
  server = await startServer();
});
afterEach(() => {
  spans.reset();
  server.seen.length = 0;
  logs.lines(); // every line so far validates against the log schema
});
afterAll(async () => {
  await server.close();
  await telemetry.shutdown();
  logs.lines(); // including the lines written by shutdown()
});

describe('createServiceClient', () => {
  it('opens a CLIENT span named by template, with peer.service, and injects its context', async () => {
    const core = createServiceClient(telemetry, {
      service: 'core',
      baseUrl: `${server.url}/internal`,
    });
    const res = await core.fetch('/trades/t_1/score', {
      method: 'POST',
      urlTemplate: '/internal/trades/:id/score',
    });
    expect(res.status).toBe(200);
    expect(server.seen[0]!.url).toBe('/internal/trades/t_1/score');
    const [span] = spans.getFinishedSpans();
    expect(span!.name).toBe('POST /internal/trades/:id/score');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.attributes['peer.service']).toBe('core');
    expect(parseTraceParent(server.seen[0]!.headers.traceparent)).toMatchObject({
      traceId: span!.spanContext().traceId,
      spanId: span!.spanContext().spanId,
    });
  });

  it('records no metrics of its own (the called service measures itself)', async () => {
    const before = await telemetry.metricsText();
    const core = createServiceClient(telemetry, { service: 'core', baseUrl: server.url });
    await core.fetch('/status/503');
    expect(await telemetry.metricsText()).toBe(before);
  });

  it('applies its timeout and rejects with a TimeoutError', async () => {
    const core = createServiceClient(telemetry, {
      service: 'core',
      baseUrl: server.url,
      timeoutMs: 80,
    });
    expect(((await rejection(core.fetch('/hang'))) as Error).name).toBe('TimeoutError');
    expect(spans.getFinishedSpans()[0]!.attributes['error.type']).toBe('timeout');
  });

  it('fails fast without a service name', () => {
    expect(() => createServiceClient(telemetry, {} as { service: string })).toThrow(
      'stacklight: serviceClient.service must be a lowercase name matching /^[a-z][a-z0-9_.-]{0,62}$/ (e.g. "binance"), got undefined',
    );
  });
});
