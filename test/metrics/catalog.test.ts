import { describe, expect, it } from 'vitest';
import {
  METRIC_CATALOG,
  SELF_METRIC_CATALOG,
  allMetricDefinitions,
  type MetricDefinition,
} from '../../src/metrics/catalog.js';

/** The spec's metrics (09-observability.md, "Metrics"), name → [type, labels]. */
const SPEC: Record<string, [string, string[]]> = {
  http_requests_total: ['counter', ['route', 'method', 'code']],
  http_request_duration_seconds: ['histogram', ['route', 'method', 'code']],
  job_duration_ms: ['histogram', ['queue', 'job', 'status']],
  queue_depth: ['gauge', ['queue', 'state']],
  // Not in the spec's list: job counters named by its conventions (issue 6).
  job_attempts_total: ['counter', ['queue', 'job']],
  job_retries_total: ['counter', ['queue', 'job']],
  job_failures_total: ['counter', ['queue', 'job', 'final']],
  job_stalled_total: ['counter', ['queue']],
  event_outbox_writes_total: ['counter', ['type']],
  event_delivery_lag_ms: ['histogram', ['channel', 'type']],
  vendor_429_total: ['counter', ['vendor']],
  vendor_req_duration_ms: ['histogram', ['vendor', 'code']],
  ai_request_total: ['counter', ['endpoint']],
  ai_request_duration_ms: ['histogram', ['endpoint']],
  ai_request_errors_total: ['counter', ['endpoint', 'reason']],
  ws_active_connections: ['gauge', []],
  ws_dropped_connections_total: ['counter', ['reason']],
  // Not in the spec's list: the SSE subscriber's stream lag and drops (issue 5).
  sse_stream_lag_seconds: ['histogram', []],
  sse_dropped_events_total: ['counter', ['reason']],
  sse_reconnects_total: ['counter', ['reason']],
  // SLIs of the SLOs (src/slo): end-to-end jobs, WS denominator, digest, probes.
  job_completion_duration_seconds: ['histogram', ['queue', 'job', 'status', 'cache']],
  ws_connections_opened_total: ['counter', []],
  digest_recipients_total: ['counter', []],
  digest_deliveries_total: ['counter', ['outcome']],
  http_synthetic_requests_total: ['counter', ['route', 'method', 'code']],
};

describe('metric catalog', () => {
  it('holds every metric of the spec with its exact name, type and labels', () => {
    const byName = new Map<string, MetricDefinition>(
      Object.values(METRIC_CATALOG).map((d) => [d.name, d]),
    );
    expect([...byName.keys()].sort()).toEqual(Object.keys(SPEC).sort());
    for (const [name, [type, labels]] of Object.entries(SPEC)) {
      const def = byName.get(name)!;
      expect(def.type, name).toBe(type);
      expect([...def.labelNames], name).toEqual(labels);
      expect(def.help.length, name).toBeGreaterThan(10);
    }
  });

  it('puts the SLO thresholds exactly on bucket boundaries', () => {
    expect(METRIC_CATALOG.httpRequestDurationSeconds.buckets).toContain(0.25);
    for (const ms of [1000, 3000, 60000])
      expect(METRIC_CATALOG.jobDurationMs.buckets).toContain(ms);
    for (const ms of [1500, 3000]) {
      expect(METRIC_CATALOG.eventDeliveryLagMs.buckets).toContain(ms);
      expect(METRIC_CATALOG.aiRequestDurationMs.buckets).toContain(ms);
    }
    for (const def of allMetricDefinitions()) {
      for (const t of def.sloThresholds ?? []) expect(def.buckets, def.name).toContain(t);
    }
  });

  it('keeps bucket lists strictly ascending and names unique', () => {
    for (const def of allMetricDefinitions()) {
      const b = def.buckets ?? [];
      for (let i = 1; i < b.length; i++) expect(b[i]!, def.name).toBeGreaterThan(b[i - 1]!);
      expect(def.labelNames, def.name).not.toContain('service');
      for (const l of def.boundedLabels ?? []) expect(def.labelNames, def.name).toContain(l);
    }
    const names = allMetricDefinitions().map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('prefixes self-metrics with stacklight_', () => {
    for (const def of Object.values(SELF_METRIC_CATALOG)) expect(def.name).toMatch(/^stacklight_/);
  });
});
