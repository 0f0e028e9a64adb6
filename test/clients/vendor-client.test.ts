import { getEventListeners } from 'node:events';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createVendorClient, type FetchLike } from '../../src/clients/index.js';
import type { Telemetry } from '../../src/index.js';
import { parseTraceParent } from '../../src/tracing/index.js';
import { useClientTestbed, refusedPort, rejection } from './fixtures.js';

const bed = useClientTestbed(undefined, true);

function onlySpan(): ReadableSpan {
  const finished = bed.spans.getFinishedSpans();
  expect(finished).toHaveLength(1);
  return finished[0]!;
}

describe('createVendorClient', () => {
  it('returns the response untouched and records duration by vendor and code', async () => {
    const binance = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
    });
    const res = await binance.fetch('/api/v3/klines?symbol=BTCUSDT', {
      urlTemplate: '/api/v3/klines',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ path: '/api/v3/klines' });
    expect(bed.server.seen[0]!.url).toBe('/api/v3/klines?symbol=BTCUSDT');

    const h = bed.telemetry.metrics.vendorReqDurationMs.read({ vendor: 'binance', code: '200' });
    expect(h.count).toBe(1);
    expect(h.sum).toBeGreaterThan(0);
    expect(bed.telemetry.metrics.vendor429Total.read({ vendor: 'binance' })).toBe(0);
  });

  it('opens a CLIENT span with HTTP client semconv and no query string or credentials', async () => {
    const binance = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
    });
    await binance.fetch('/api/v3/myTrades?symbol=BTCUSDT&signature=s3cr3t#frag', {
      urlTemplate: '/api/v3/myTrades',
      headers: { 'X-MBX-APIKEY': 'key-123', authorization: 'Bearer t0ken' },
    });
    const span = onlySpan();
    expect(span.name).toBe('GET /api/v3/myTrades');
    expect(span.kind).toBe(SpanKind.CLIENT);
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': bed.server.port,
      'url.full': `${bed.server.url}/api/v3/myTrades`,
      'url.template': '/api/v3/myTrades',
      'peer.service': 'binance',
      'http.response.status_code': 200,
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(JSON.stringify(span.attributes)).not.toMatch(/s3cr3t|key-123|t0ken|frag/);
  });

  it('names the span by method alone when no template is given, never by raw path', async () => {
    const vendor = createVendorClient(bed.telemetry, { vendor: 'bybit', baseUrl: bed.server.url });
    await vendor.fetch('/v5/order/42', { method: 'post', body: '{}' });
    const span = onlySpan();
    expect(span.name).toBe('POST');
    expect(span.attributes['http.request.method']).toBe('POST');
    expect(span.attributes['http.request.method_original']).toBe('post');
  });

  it('injects traceparent from the client span, inside the caller’s trace', async () => {
    const binance = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
    });
    const parent = bed.telemetry.tracer.startSpan('import.page');
    await context.with(trace.setSpan(context.active(), parent), () =>
      binance.fetch('/api/v3/klines', {
        headers: { traceparent: '00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01' },
      }),
    );
    parent.end();
    const client = bed.spans.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    const sent = parseTraceParent(bed.server.seen[0]!.headers.traceparent)!;
    expect(sent.traceId).toBe(parent.spanContext().traceId);
    expect(sent.spanId).toBe(client.spanContext().spanId);
    expect(client.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
  });

  it('sends the client’s default headers and the request’s, the request’s winning', async () => {
    const vendor = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: `${bed.server.url}/prefix/`,
      headers: { 'x-api-key': 'default', 'x-client': 'stacklight' },
    });
    await vendor.fetch('api/v3/time', { headers: new Headers({ 'x-api-key': 'override' }) });
    const seen = bed.server.seen[0]!;
    expect(seen.url).toBe('/prefix/api/v3/time');
    expect(seen.headers['x-api-key']).toBe('override');
    expect(seen.headers['x-client']).toBe('stacklight');
    expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/);
  });

  it('rejects invalid caller headers like fetch, before any span or metric', async () => {
    const vendor = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
    });
    const error = await rejection(vendor.fetch('/x', { headers: { 'bad header': 'x' } }));
    expect(error).toBeInstanceOf(TypeError);
    expect(bed.spans.getFinishedSpans()).toEqual([]);
    expect(bed.server.seen).toEqual([]);
  });

  it('counts 429 responses in vendor_429_total and marks the span as an error', async () => {
    const binance = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
    });
    const res = await binance.fetch('/status/429');
    expect(res.status).toBe(429);
    await binance.fetch('/status/429');
    expect(bed.telemetry.metrics.vendor429Total.read({ vendor: 'binance' })).toBe(2);
    expect(
      bed.telemetry.metrics.vendorReqDurationMs.read({ vendor: 'binance', code: '429' }).count,
    ).toBe(2);
    const span = bed.spans.getFinishedSpans()[0]!;
    expect(span.attributes['error.type']).toBe('429');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(await bed.telemetry.metricsText()).toContain(
      'vendor_429_total{vendor="binance",service="worker"} 2',
    );
  });

  it('times out with a TimeoutError and records code="timeout"', async () => {
    const binance = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
      timeoutMs: 5000,
    });
    const started = Date.now();
    const error = await rejection(binance.fetch('/hang', { timeoutMs: 100 }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(
      bed.telemetry.metrics.vendorReqDurationMs.read({ vendor: 'binance', code: 'timeout' }).count,
    ).toBe(1);
    const span = onlySpan();
    expect(span.attributes['error.type']).toBe('timeout');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('rethrows fetch’s own error on a refused connection and records code="network"', async () => {
    const port = await refusedPort();
    let thrown: unknown;
    const spy: FetchLike = async (input, init) => {
      try {
        return await fetch(input, init);
      } catch (error) {
        thrown = error;
        throw error;
      }
    };
    const vendor = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: `http://127.0.0.1:${port}`,
      fetch: spy,
    });
    const error = await rejection(vendor.fetch('/api/v3/time'));
    expect(error).toBe(thrown);
    expect(error).toBeInstanceOf(TypeError);
    expect(((error as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    expect(
      bed.telemetry.metrics.vendorReqDurationMs.read({ vendor: 'binance', code: 'network' }).count,
    ).toBe(1);
    expect(onlySpan().attributes['error.type']).toBe('network');
  });

  it('rethrows the caller’s abort reason as is and does not observe the aborted request', async () => {
    const vendor = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
      timeoutMs: 5000,
    });
    const controller = new AbortController();
    const reason = new Error('client went away');
    const pending = vendor.fetch('/hang', { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    expect(await rejection(pending)).toBe(reason);
    expect(
      bed.telemetry.metrics.vendorReqDurationMs.read({ vendor: 'binance', code: 'aborted' }).count,
    ).toBe(0);
    expect(onlySpan().attributes['error.type']).toBe('aborted');
    // The client's listener on the caller's signal is gone.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('rejects at once for an already aborted signal, with its reason', async () => {
    const vendor = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
      timeoutMs: 1000,
    });
    const signal = AbortSignal.abort(new Error('already'));
    expect(((await rejection(vendor.fetch('/ok', { signal }))) as Error).message).toBe('already');
    expect(bed.server.seen).toHaveLength(0);
  });

  it('detaches from a long-lived caller signal after each request', async () => {
    const vendor = createVendorClient(bed.telemetry, {
      vendor: 'binance',
      baseUrl: bed.server.url,
      timeoutMs: 1000,
    });
    const shutdown = new AbortController();
    for (let i = 0; i < 20; i++) {
      await vendor.fetch('/status/204', { signal: shutdown.signal });
    }
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0);
  });

  it('never fails a request for telemetry reasons, and counts what it absorbed', async () => {
    const broken = {
      tracer: {
        startSpan: () => {
          throw new Error('tracer down');
        },
      },
      metrics: new Proxy(bed.telemetry.metrics, {
        get: () => ({
          observe: () => {
            throw new Error('metrics down');
          },
          inc: () => {
            throw new Error('metrics down');
          },
        }),
      }),
      selfMetrics: bed.telemetry.selfMetrics,
    } as unknown as Telemetry;
    const before = bed.telemetry.selfMetrics.internalErrorsTotal.read({ component: 'http_client' });
    const vendor = createVendorClient(broken, { vendor: 'binance', baseUrl: bed.server.url });
    const res = await vendor.fetch('/status/429');
    expect(res.status).toBe(429);
    expect(
      bed.telemetry.selfMetrics.internalErrorsTotal.read({ component: 'http_client' }) - before,
    ).toBe(2);
  });

  it('fails fast on wrong options, naming the option and what is allowed', () => {
    expect(() => createVendorClient(bed.telemetry, { vendor: 'Binance API' })).toThrow(
      'stacklight: vendorClient.vendor must be a lowercase name matching /^[a-z][a-z0-9_.-]{0,62}$/ (e.g. "binance"), got "Binance API"',
    );
    expect(() => createVendorClient(bed.telemetry, { vendor: 'binance', timeoutMs: -1 })).toThrow(
      'stacklight: vendorClient.timeoutMs must be a whole number of milliseconds in [0, 2147483647], got -1',
    );
    expect(() =>
      createVendorClient(bed.telemetry, { vendor: 'binance', baseUrl: 'ftp://x' }),
    ).toThrow('stacklight: vendorClient.baseUrl must be an absolute http(s) URL, got "ftp://x"');
    expect(() =>
      createVendorClient(bed.telemetry, {
        vendor: 'binance',
        baseUrl: 'https://u:p@api.binance.com',
      }),
    ).toThrow(
      'stacklight: vendorClient.baseUrl must be a URL without credentials (pass them in headers), got "api.binance.com"',
    );
  });
});
