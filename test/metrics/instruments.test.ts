import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/registry.js';
import { renderMetrics } from '../../src/metrics/exposition.js';
import { OVERFLOW_LABEL_VALUE } from '../../src/metrics/catalog.js';

function room(maxSeriesPerMetric = 2000) {
  return createMetrics({
    defaultLabels: { service: 'edge' },
    maxSeriesPerMetric,
    defaultMetrics: false,
    serviceVersion: '1.2.3',
  });
}

describe('guarded instruments', () => {
  it('counts per label combination and exposes exact values', async () => {
    const { metrics, registry } = room();
    metrics.httpRequestsTotal.inc({ route: '/users/:id', method: 'GET', code: 200 });
    metrics.httpRequestsTotal.inc({ route: '/users/:id', method: 'GET', code: 200 }, 2);
    metrics.httpRequestsTotal.inc({ route: '/login', method: 'POST', code: 503 });
    const text = await renderMetrics(registry, { defaultLabels: { service: 'edge' } });
    expect(text).toContain(
      'http_requests_total{route="/users/:id",method="GET",code="200",service="edge"} 3',
    );
    expect(text).toContain(
      'http_requests_total{route="/login",method="POST",code="503",service="edge"} 1',
    );
  });

  it('records histogram buckets cumulatively with sum and count', async () => {
    const { metrics, registry } = room();
    const h = metrics.httpRequestDurationSeconds;
    h.observe({ route: '/a', method: 'GET', code: 200 }, 0.2);
    h.observe({ route: '/a', method: 'GET', code: 200 }, 0.25);
    h.observe({ route: '/a', method: 'GET', code: 200 }, 0.3);
    h.observe({ route: '/a', method: 'GET', code: 200 }, 100);
    const v = h.read({ route: '/a', method: 'GET', code: 200 });
    expect(v.count).toBe(4);
    expect(v.sum).toBeCloseTo(100.75);
    expect(v.buckets['0.15']).toBe(0);
    expect(v.buckets['0.25']).toBe(2); // le is inclusive: 0.25 lands in the 0.25 bucket
    expect(v.buckets['0.5']).toBe(3);
    expect(v.buckets['10']).toBe(3);
    expect(v.buckets['+Inf']).toBe(4);
    const text = await renderMetrics(registry, { defaultLabels: { service: 'edge' } });
    expect(text).toContain(
      'http_request_duration_seconds_bucket{route="/a",method="GET",code="200",service="edge",le="0.25"} 2',
    );
    expect(text).toContain(
      'http_request_duration_seconds_bucket{route="/a",method="GET",code="200",service="edge",le="+Inf"} 4',
    );
    expect(text).toContain(
      'http_request_duration_seconds_count{route="/a",method="GET",code="200",service="edge"} 4',
    );
  });

  it('drops and counts invalid values instead of throwing', () => {
    const { metrics, self } = room();
    expect(() => metrics.vendor429Total.inc({ vendor: 'binance' }, Number.NaN)).not.toThrow();
    expect(() => metrics.vendor429Total.inc({ vendor: 'binance' }, -1)).not.toThrow();
    expect(() =>
      metrics.aiRequestDurationMs.observe({ endpoint: '/v1/indicators' }, Infinity),
    ).not.toThrow();
    expect(() =>
      metrics.queueDepth.set({ queue: 'q', state: 'waiting' }, Number.NaN),
    ).not.toThrow();
    expect(() =>
      (metrics.httpRequestsTotal.inc as (...a: unknown[]) => void)(null, 'x'),
    ).not.toThrow();
    expect(metrics.vendor429Total.read({ vendor: 'binance' })).toBe(0);
    expect(self.invalidObservationsTotal.read({ metric: 'vendor_429_total' })).toBe(2);
    expect(self.invalidObservationsTotal.read({ metric: 'ai_request_duration_ms' })).toBe(1);
    expect(self.invalidObservationsTotal.read({ metric: 'queue_depth' })).toBe(1);
  });

  it('supports gauges without labels and scrape-time collectors', async () => {
    const { metrics, registry } = room();
    metrics.wsActiveConnections.inc();
    metrics.wsActiveConnections.inc();
    metrics.wsActiveConnections.dec();
    let calls = 0;
    metrics.queueDepth.addCollector(() => {
      calls++;
      metrics.queueDepth.set({ queue: 'q_import', state: 'waiting' }, 7);
    });
    const text = await renderMetrics(registry, { defaultLabels: { service: 'edge' } });
    expect(calls).toBe(1);
    expect(text).toContain('ws_active_connections{service="edge"} 1');
    expect(text).toContain('queue_depth{queue="q_import",state="waiting",service="edge"} 7');
  });

  it('renders what collectors counted in the same scrape', async () => {
    const { metrics, self, registry } = room();
    metrics.queueDepth.addCollector(() => {
      self.internalErrorsTotal.inc({ component: 'queue_depth' });
    });
    const text = await renderMetrics(registry);
    expect(text).toContain('stacklight_internal_errors_total{component="queue_depth"} 1');
  });

  it('reports a hanging collector and still answers within the collect timeout', async () => {
    const { metrics, registry } = room();
    metrics.queueDepth.set({ queue: 'q', state: 'waiting' }, 1);
    metrics.queueDepth.addCollector(() => new Promise(() => undefined));
    const failures: string[] = [];
    const started = Date.now();
    const text = await renderMetrics(registry, {
      collectTimeoutMs: 100,
      onCollectError: (m) => failures.push(m),
    });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(failures).toEqual(['queue_depth']);
    expect(text).toContain('http_requests_total');
  });

  it('refuses a duplicate metric name, naming it', () => {
    const { define } = room();
    expect(() =>
      define({
        name: 'http_requests_total',
        type: 'counter',
        help: 'dup',
        labelNames: [],
        unit: 'requests',
        stacks: [],
      }),
    ).toThrow(
      'stacklight: a metric named "http_requests_total" is already registered in this registry',
    );
  });

  it('sets the build-info gauge', async () => {
    const { registry } = room();
    const text = await renderMetrics(registry);
    expect(text).toMatch(
      /stacklight_build_info\{version="1\.2\.3",sdk_version="0\.1\.0",node_version="v\d+\.\d+\.\d+"\} 1/,
    );
  });
});

describe('cardinality guard', () => {
  it('caps a flood of distinct label values at the series limit and counts the overflow', async () => {
    const cap = 50;
    const { metrics, self, registry } = room(cap);
    for (let i = 0; i < 10_000; i++) {
      metrics.httpRequestsTotal.inc({
        route: `/random/${i}`,
        method: 'GET',
        code: i % 10 === 0 ? 500 : 200,
      });
    }
    const series = (await renderMetrics(registry))
      .split('\n')
      .filter((l) => l.startsWith('http_requests_total{'));
    // cap real series + one overflow series per combination of bounded labels (method, code)
    expect(series.length).toBe(cap + 2);
    expect(self.seriesOverflowTotal.read({ metric: 'http_requests_total' })).toBe(10_000 - cap);
    // The overflow keeps the status code, so availability (5xx / total) stays exact.
    const total = series.reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    const errors = series
      .filter((l) => l.includes('code="500"'))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
    expect(total).toBe(10_000);
    expect(errors).toBe(1000);
    expect(series.some((l) => l.includes(`route="${OVERFLOW_LABEL_VALUE}"`))).toBe(true);
  });

  it('collapses even bounded labels once the overflow series reach their own limit', () => {
    const { metrics } = room(10);
    for (let i = 0; i < 5000; i++)
      metrics.vendorReqDurationMs.observe({ vendor: `v${i}`, code: `c${i}` }, 1);
    expect(metrics.vendorReqDurationMs.seriesCount).toBeLessThanOrEqual(10 + 100 + 1);
  });
});

describe('bound recorders (one label combination, resolved once)', () => {
  const labels = { route: '/users/:id', method: 'GET', code: '200' } as const;

  it('record exactly what the instrument records through the labels', async () => {
    const a = room();
    const b = room();
    const count = a.metrics.httpRequestsTotal.bind(labels)!;
    const duration = a.metrics.httpRequestDurationSeconds.bind(labels)!;
    for (const v of [0.001, 0.2, 0.25, 3, 100]) {
      count.inc();
      duration.observe(v);
      b.metrics.httpRequestsTotal.inc(labels);
      b.metrics.httpRequestDurationSeconds.observe(labels, v);
    }
    count.inc(2);
    b.metrics.httpRequestsTotal.inc(labels, 2);
    expect(await renderMetrics(a.registry)).toBe(await renderMetrics(b.registry));
    expect(a.metrics.httpRequestsTotal.read(labels)).toBe(7);
  });

  it('keep counting into the exposed series after reset() and remove()', async () => {
    const { metrics, registry } = room();
    const count = metrics.httpRequestsTotal.bind(labels)!;
    const duration = metrics.httpRequestDurationSeconds.bind(labels)!;
    count.inc();
    duration.observe(0.1);
    metrics.httpRequestsTotal.reset();
    metrics.httpRequestDurationSeconds.reset();
    count.inc();
    count.inc();
    duration.observe(0.1);
    expect(metrics.httpRequestsTotal.read(labels)).toBe(2);
    expect(metrics.httpRequestDurationSeconds.read(labels).count).toBe(1);
    metrics.httpRequestsTotal.remove(labels);
    count.inc();
    const text = await renderMetrics(registry);
    expect(text).toContain('http_requests_total{route="/users/:id",method="GET",code="200"} 1');
  });

  it('are not made past the cap, and fall back to the overflow series (counted) after a reset', () => {
    const { metrics, self } = room(2);
    const first = metrics.httpRequestsTotal.bind(labels)!;
    expect(metrics.httpRequestsTotal.bind({ ...labels, code: '201' })).toBeDefined();
    // A third combination would overflow: no bound recorder, no overflow counted yet.
    expect(metrics.httpRequestsTotal.bind({ ...labels, code: '202' })).toBeUndefined();
    expect(self.seriesOverflowTotal.read({ metric: 'http_requests_total' })).toBe(0);
    // After a reset, two other combinations take the room; the bound one now overflows.
    metrics.httpRequestsTotal.reset();
    metrics.httpRequestsTotal.inc({ ...labels, code: '203' });
    metrics.httpRequestsTotal.inc({ ...labels, code: '204' });
    first.inc();
    expect(self.seriesOverflowTotal.read({ metric: 'http_requests_total' })).toBe(1);
    expect(
      metrics.httpRequestsTotal.read({ route: OVERFLOW_LABEL_VALUE, method: 'GET', code: '200' }),
    ).toBe(1);
  });

  it('drop and count invalid values like the instrument', () => {
    const { metrics, self } = room();
    const count = metrics.httpRequestsTotal.bind(labels)!;
    const duration = metrics.httpRequestDurationSeconds.bind(labels)!;
    count.inc(-1);
    count.inc(Number.NaN);
    duration.observe(Infinity);
    expect(metrics.httpRequestsTotal.read(labels)).toBe(0);
    expect(metrics.httpRequestDurationSeconds.read(labels).count).toBe(0);
    expect(self.invalidObservationsTotal.read({ metric: 'http_requests_total' })).toBe(2);
    expect(self.invalidObservationsTotal.read({ metric: 'http_request_duration_seconds' })).toBe(1);
  });
});
