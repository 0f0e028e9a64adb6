import { afterEach, describe, expect, it } from 'vitest';
import {
  createDigestRecorder,
  createOutbox,
  init,
  METRIC_CATALOG,
  METRIC_FAMILIES,
  type Telemetry,
} from '../../src/index.js';

let telemetry: Telemetry | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

function start(metrics: Record<string, unknown> = {}): Telemetry {
  telemetry = init({
    service: 'api',
    metrics: { defaultMetrics: true, ...metrics },
    tracing: { enabled: false },
    logging: { level: 'silent' },
    shutdown: { handleSignals: false, handleCrashes: false },
  });
  return telemetry;
}

/** Names in `# TYPE` lines of the exposition. */
async function families(t: Telemetry): Promise<string[]> {
  return (await t.metricsText())
    .split('\n')
    .filter((l) => l.startsWith('# TYPE '))
    .map((l) => l.split(' ')[2]!);
}

const LAZY = Object.values(METRIC_FAMILIES)
  .flat()
  .map((k) => METRIC_CATALOG[k].name);

describe('catalog families in /metrics', () => {
  it('an HTTP API shows the HTTP, process and stacklight metrics, and no other family', async () => {
    const names = await families(start());
    expect(names).toContain('http_requests_total');
    expect(names).toContain('http_request_duration_seconds');
    expect(names).toContain('process_cpu_user_seconds_total');
    expect(names).toContain('stacklight_build_info');
    // The families the catalog defers, not an empty list that would make this vacuous.
    expect(LAZY).toEqual(
      expect.arrayContaining(['queue_depth', 'ai_request_total', 'ws_active_connections']),
    );
    for (const lazy of LAZY) expect(names).not.toContain(lazy);
  });

  it('a family appears when its helper is created, zeros included', async () => {
    const t = start();
    createDigestRecorder(t);
    createOutbox(t);
    const text = await t.metricsText();
    expect(text).toContain('digest_recipients_total{service="api"} 0');
    expect(text).toContain('# TYPE digest_deliveries_total counter');
    expect(text).toContain('# TYPE event_outbox_writes_total counter');
    expect(text).toContain('# TYPE event_delivery_lag_ms histogram');
    expect(text).not.toContain('job_duration_ms');
  });

  it('a family appears when one of its metrics is first recorded directly', async () => {
    const t = start();
    t.metrics.vendor429Total.inc({ vendor: 'binance' });
    t.metrics.wsActiveConnections.inc();
    const text = await t.metricsText();
    expect(text).toContain('vendor_429_total{vendor="binance",service="api"} 1');
    expect(text).toContain('# TYPE vendor_req_duration_ms histogram');
    expect(text).toContain('ws_active_connections{service="api"} 1');
    expect(text).toContain('ws_connections_opened_total{service="api"} 0');
    expect(text).not.toContain('ai_request_total');
  });

  it('a gauge collector added directly shows its family', async () => {
    const t = start();
    t.metrics.queueDepth.addCollector(() => {
      t.metrics.queueDepth.set({ queue: 'q_import', state: 'waiting' }, 4);
    });
    const text = await t.metricsText();
    expect(text).toContain('queue_depth{queue="q_import",state="waiting",service="api"} 4');
    expect(text).toContain('# TYPE job_duration_ms histogram');
  });

  it('metrics.families shows families from init() on', async () => {
    const t = start({ families: ['jobs', 'ws'] });
    const text = await t.metricsText();
    expect(text).toContain('# TYPE job_completion_duration_seconds histogram');
    expect(text).toContain('ws_active_connections{service="api"} 0');
    expect(text).not.toContain('ai_request_total');
  });

  it('refuses an unknown family at init()', () => {
    expect(() => start({ families: ['jobs', 'kafka'] })).toThrow(
      'stacklight: metrics.families must be an array of "jobs", "events", "vendor", "ai", "ws", "sse", "digest", got ["jobs","kafka"]',
    );
  });

  it('keeps the name of a catalog metric not shown yet from defineMetric', () => {
    const t = start();
    expect(() =>
      t.defineMetric({
        name: 'ai_request_total',
        type: 'counter',
        help: 'x',
        labelNames: ['endpoint'],
      }),
    ).toThrow("is in stacklight's catalog");
  });

  it('puts every catalog metric but the HTTP ones in exactly one family', () => {
    const listed = Object.values(METRIC_FAMILIES).flat() as string[];
    expect(new Set(listed).size).toBe(listed.length);
    const always = Object.keys(METRIC_CATALOG).filter((k) => !listed.includes(k));
    expect(always.map((k) => METRIC_CATALOG[k as keyof typeof METRIC_CATALOG].name)).toEqual([
      'http_requests_total',
      'http_request_duration_seconds',
      'http_synthetic_requests_total',
    ]);
  });
});
