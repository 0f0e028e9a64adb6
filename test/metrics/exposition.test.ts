import { describe, expect, it } from 'vitest';
import { METRIC_CATALOG, METRIC_FAMILY_NAMES } from '../../src/metrics/catalog.js';
import { negotiateFormat, renderMetrics } from '../../src/metrics/exposition.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { promtoolCheckMetrics } from '../helpers/promtool.js';

/** Every catalog metric shown (most observed once, plus awkward label values). */
function observedRoom(exemplar?: { traceId: string; spanId: string }) {
  const room = createMetrics({
    families: METRIC_FAMILY_NAMES,
    defaultLabels: { service: 'edge', env: 'prod', region: 'eu-west-1' },
    maxSeriesPerMetric: 2000,
    defaultMetrics: true,
    serviceVersion: '1.0.0',
    exemplarSource: exemplar ? () => exemplar : undefined,
  });
  const m = room.metrics;
  m.httpRequestsTotal.inc({ route: '/users/:id', method: 'GET', code: 200 });
  m.httpRequestDurationSeconds.observe({ route: '/users/:id', method: 'GET', code: 200 }, 0.12);
  m.jobDurationMs.observe({ queue: 'q_import', job: 'import.trades', status: 'completed' }, 42_000);
  m.queueDepth.set({ queue: 'q_import', state: 'waiting' }, 3);
  m.eventOutboxWritesTotal.inc({ type: 'bias.tagged' });
  m.eventDeliveryLagMs.observe({ channel: 'ws', type: 'coach.reflection' }, 800);
  m.vendor429Total.inc({ vendor: 'binance' });
  m.vendorReqDurationMs.observe({ vendor: 'binance', code: 429 }, 120);
  m.aiRequestTotal.inc({ endpoint: '/v1/nlg/reflect' });
  m.aiRequestDurationMs.observe({ endpoint: '/v1/nlg/reflect' }, 1400);
  m.aiRequestErrorsTotal.inc({ endpoint: '/v1/nlg/reflect', reason: 'timeout' });
  m.wsActiveConnections.set(12);
  m.wsDroppedConnectionsTotal.inc({ reason: 'ping_timeout' });
  // Label values that need escaping must still parse.
  m.eventOutboxWritesTotal.inc({ type: 'quote"back\\slash\nnewline' });
  return room;
}

const DEFAULTS = { service: 'edge', env: 'prod', region: 'eu-west-1' };

describe('exposition', () => {
  it('passes promtool check metrics; the only lint findings are the documented names', async () => {
    const { registry } = observedRoom();
    const text = await renderMetrics(registry, { defaultLabels: DEFAULTS });
    for (const def of Object.values(METRIC_CATALOG))
      expect(text).toContain(`# TYPE ${def.name} ${def.type}`);
    expect(text).toContain('process_cpu_user_seconds_total');
    const result = promtoolCheckMetrics(text);
    // promtool exits 1 on a parse error and 3 when it only has lint findings.
    expect(result.status).not.toBe(1);
    expect(result.problems.sort()).toEqual(
      [
        'ai_request_duration_ms metric names should not contain abbreviated units',
        'event_delivery_lag_ms metric names should not contain abbreviated units',
        'job_duration_ms metric names should not contain abbreviated units',
        'vendor_req_duration_ms metric names should not contain abbreviated units',
        // prom-client's default process metrics, kept under their well-known names
        'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
        'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
        'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
      ].sort(),
    );
  });

  it('puts service (and env/region when enabled) on every series', async () => {
    const { registry } = observedRoom();
    const text = await renderMetrics(registry, { defaultLabels: DEFAULTS });
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(samples.length).toBeGreaterThan(100);
    for (const s of samples) expect(s).toContain('service="edge"');
  });

  it('writes OpenMetrics with counter families, exemplars carrying trace_id, and # EOF', async () => {
    const ex = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
    const { registry } = observedRoom(ex);
    const text = await renderMetrics(registry, { format: 'openmetrics', defaultLabels: DEFAULTS });
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE http_requests counter');
    expect(text).toContain(
      'http_requests_total{route="/users/:id",method="GET",code="200",service="edge",env="prod",region="eu-west-1"} 1',
    );
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{[^}]*le="0\.15"\} 1 # \{trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"\} 0\.12 \d+\.\d{3}/,
    );
    // the same registry still renders Prometheus text afterwards (nothing renamed in place)
    const again = await renderMetrics(registry, { defaultLabels: DEFAULTS });
    expect(again).toContain('# TYPE http_requests_total counter');
    expect(again).not.toContain('# EOF');
    expect(again).not.toContain('trace_id');
  });

  it("keeps each bucket's latest exemplar, copied from the span context it was given", async () => {
    // The source hands out a live object (stacklight's returns the span context itself).
    const current = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
    const room = createMetrics({
      defaultLabels: {},
      maxSeriesPerMetric: 100,
      defaultMetrics: false,
      serviceVersion: '1',
      exemplarSource: () => current,
    });
    const h = room.metrics.httpRequestDurationSeconds;
    const labels = { route: '/a', method: 'GET', code: 200 };
    h.observe(labels, 0.12); // le=0.15
    h.observe(labels, 3); // le=5
    current.traceId = '11111111111111111111111111111111';
    current.spanId = '2222222222222222';
    h.observe(labels, 0.13); // le=0.15 again: replaces that bucket's exemplar only
    current.traceId = 'ffffffffffffffffffffffffffffffff'; // changed after: must not leak in
    const text = await renderMetrics(room.registry, { format: 'openmetrics' });
    const line = (le: string) => text.split('\n').find((l) => l.includes(`le="${le}"`))!;
    expect(line('0.15')).toMatch(
      /# \{trace_id="11111111111111111111111111111111",span_id="2222222222222222"\} 0\.13 /,
    );
    expect(line('5')).toMatch(
      /# \{trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"\} 3 /,
    );
    expect(text).not.toContain('ffffffff');
  });

  it('negotiates the format from the Accept header', () => {
    expect(negotiateFormat(undefined)).toBe('prometheus');
    expect(negotiateFormat('text/plain')).toBe('prometheus');
    expect(
      negotiateFormat(
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      ),
    ).toBe('openmetrics');
    expect(negotiateFormat('text/plain;q=1, application/openmetrics-text;q=0.5')).toBe(
      'prometheus',
    );
    expect(negotiateFormat('application/openmetrics-text;q=0')).toBe('prometheus');
  });
});
