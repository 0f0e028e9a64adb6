/**
 * The demo runner's own parts, against real stacklight output: its OTLP
 * collector decodes what stacklight's exporter sends (and forwards it),
 * its exposition reader counts SLO shares from a real /metrics text, the
 * trace assembly puts linked sends under the span they link to, and its
 * options fail with the option, the value and what is allowed.
 */
import { SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createOutbox,
  createEventDelivery,
  init,
  withSpan,
  type Telemetry,
} from '../../src/index.js';
import { startCollector, type Collector } from '../../examples/demo/runner/collector.js';
import {
  histogram,
  parseExposition,
  quantile,
  shareAtMost,
  total,
} from '../../examples/demo/runner/exposition.js';
import { parseDemoOptions } from '../../examples/demo/runner/options.js';
import { assembleTrace } from '../../examples/demo/runner/trace.js';

let telemetry: Telemetry | undefined;
const collectors: Collector[] = [];
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  await Promise.all(collectors.splice(0).map((c) => c.close()));
});

describe('the demo collector', () => {
  it('decodes the spans stacklight exports, with service, parent and links, and forwards the bodies', async () => {
    const upstream = await startCollector(undefined);
    const collector = await startCollector(upstream.url);
    collectors.push(upstream, collector);
    telemetry = init({
      service: 'core',
      logging: { level: 'silent' },
      tracing: { exporter: 'otlp', endpoint: collector.url, scheduledDelayMs: 50 },
    });
    const outbox = createOutbox(telemetry);
    const sse = createEventDelivery(telemetry, { channel: 'sse' });
    const envelope = withSpan(
      'HTTP /internal/events',
      {},
      () => outbox.append({ type: 'coach.reflection', payload: {} }),
      {
        tracer: telemetry.tracer,
        kind: SpanKind.SERVER,
      },
    );
    sse.deliver(envelope, () => undefined);
    await telemetry.shutdown();
    telemetry = undefined;

    const byName = new Map(collector.spans.map((s) => [s.name, s]));
    const request = byName.get('HTTP /internal/events');
    const append = byName.get('outbox.append');
    const send = byName.get('SSE send');
    expect(request?.service).toBe('core');
    expect(append?.parentSpanId).toBe(request?.spanId);
    expect(append?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(append!.endMs).toBeGreaterThanOrEqual(append!.startMs);
    expect(append!.startMs).toBeGreaterThan(Date.UTC(2020, 0, 1));
    expect(send?.links).toContainEqual({ traceId: append!.traceId, spanId: append!.spanId });

    // The forwarded bodies arrive whole at the configured endpoint.
    await expect.poll(() => upstream.spans.length).toBe(collector.spans.length);
    expect(upstream.spans.map((s) => s.spanId).sort()).toEqual(
      collector.spans.map((s) => s.spanId).sort(),
    );
    expect(collector.forwardErrors).toBe(0);

    // Assembled, the send sits under the append it links to, marked as linked.
    const assembled = assembleTrace(collector.spans, append!.traceId)!;
    expect(assembled.rows.map((r) => [r.span.name, r.depth, r.linked])).toEqual([
      ['HTTP /internal/events', 0, false],
      ['outbox.append', 1, false],
      ['SSE send', 2, true],
    ]);
  });
});

describe('the exposition reader', () => {
  it('counts the share of logins at or under 250 ms exactly from a real /metrics text', async () => {
    telemetry = init({
      service: 'edge',
      logging: { level: 'silent' },
      tracing: { enabled: false },
    });
    const seconds = telemetry.metrics.httpRequestDurationSeconds;
    for (const v of [0.01, 0.02, 0.2, 0.25, 0.26, 0.9])
      seconds.observe({ route: '/v1/login', method: 'POST', code: 200 }, v);
    seconds.observe({ route: '/v1/other', method: 'GET', code: 200 }, 5);
    telemetry.metrics.httpRequestsTotal.inc({ route: '/v1/login', method: 'POST', code: 503 });
    const samples = parseExposition(await telemetry.metricsText());

    const login = histogram(samples, 'http_request_duration_seconds', { route: '/v1/login' });
    expect(login.count).toBe(6);
    expect(shareAtMost(login, 0.25)).toBe(4 / 6); // 0.25 itself is inside the bucket
    expect(quantile(login, 0.5)).toBeGreaterThan(0.15);
    expect(quantile(login, 0.5)).toBeLessThanOrEqual(0.25);
    expect(histogram(samples, 'http_request_duration_seconds').count).toBe(7);
    expect(total(samples, 'http_requests_total', { code: /^5/ })).toBe(1);
    expect(
      shareAtMost(histogram(samples, 'http_request_duration_seconds', { route: '/none' }), 0.25),
    ).toBeUndefined();
  });
});

describe('the demo options', () => {
  it('reads durations and shares, and names the option, value and what is allowed on a bad one', () => {
    const opts = parseDemoOptions([
      '--ai-latency',
      '4s',
      '--broker-429',
      '0.3',
      '--duration',
      '15',
    ]);
    expect(opts).toMatchObject({
      aiLatencyMs: 4000,
      broker429: 0.3,
      duration: 15,
      users: 6,
      prometheus: false,
    });
    expect(parseDemoOptions(['--ai-latency', '800ms'])).toMatchObject({ aiLatencyMs: 800 });
    expect(() => parseDemoOptions(['--ai-errors', '2'])).toThrow(
      'demo: --ai-errors must be a share in [0, 1], got "2"',
    );
    expect(() => parseDemoOptions(['--ai-latency', 'soon'])).toThrow(
      'demo: --ai-latency must be a duration such as 4s, 800ms or 800 (ms), got "soon"',
    );
    expect(() => parseDemoOptions(['--rules', 'rules/'])).toThrow(
      'demo: --rules must be used with --prometheus, got "rules/"',
    );
    expect(() => parseDemoOptions(['--no-such-flag'])).toThrow(/no-such-flag/);
  });
});
