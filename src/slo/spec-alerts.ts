import type { ResolvedSpecNames } from './spec.js';
import { quote } from './spec.js';
import { COMMENT, type YamlMap } from './yaml.js';

/**
 * The spec's SLIs as recording rules (`sli:<name>:<operation>`), so that
 * dashboards, alerts and ad-hoc queries read one precomputed series.
 */
export function sliRecordingGroup(n: ResolvedSpecNames): YamlMap {
  const edge = `service=${quote(n.services.edge)}`;
  return {
    name: 'stacklight-sli',
    rules: [
      {
        [COMMENT]:
          'edge_http_availability = 1 - (5xx + gateway timeouts) / total. Gateway timeouts are 504s,\nso 5xx covers them. No result without traffic (rather than a division by zero).',
        record: 'sli:edge_http_availability:ratio_rate5m',
        expr: `1 - (sum(rate(http_requests_total{${edge},code=~"5.."}[5m])) or vector(0)) / (sum(rate(http_requests_total{${edge}}[5m])) > 0)`,
      },
      {
        [COMMENT]: 'core_http_latency (and every service): p95 of request duration, by service.',
        record: 'sli:http_request_duration_seconds:p95_rate5m',
        expr: 'histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket[5m])))',
      },
      {
        [COMMENT]:
          'event_delivery_lag_ms = outbox_ts -> send, by channel (ws, sse) and event type.',
        record: 'sli:event_delivery_lag_ms:p50_rate5m',
        expr: 'histogram_quantile(0.5, sum by (channel, type, le) (rate(event_delivery_lag_ms_bucket[5m])))',
      },
      {
        record: 'sli:event_delivery_lag_ms:p95_rate5m',
        expr: 'histogram_quantile(0.95, sum by (channel, type, le) (rate(event_delivery_lag_ms_bucket[5m])))',
      },
      {
        [COMMENT]:
          'job_duration_ms{job=import|score|sim|digest}: processor time of one attempt. The `job` label\nneeds honor_labels: true in the scrape config (see stacklight scrape-config).',
        record: 'sli:job_duration_ms:p95_rate10m',
        expr: 'histogram_quantile(0.95, sum by (queue, job, le) (rate(job_duration_ms_bucket[10m])))',
      },
      {
        [COMMENT]:
          'End to end: added -> last run ended (queue wait and every attempt), by job and cache.',
        record: 'sli:job_completion_duration_seconds:p95_rate10m',
        expr: 'histogram_quantile(0.95, sum by (job, cache, le) (rate(job_completion_duration_seconds_bucket[10m])))',
      },
      {
        [COMMENT]: 'ai_latency_ms{endpoint}: p95 by endpoint.',
        record: 'sli:ai_request_duration_ms:p95_rate5m',
        expr: 'histogram_quantile(0.95, sum by (endpoint, le) (rate(ai_request_duration_ms_bucket[5m])))',
      },
      {
        [COMMENT]: 'ai_error_rate: failed calls (timeouts included) / calls.',
        record: 'sli:ai_error_rate:ratio_rate5m',
        expr: '(sum(rate(ai_request_errors_total[5m])) or vector(0)) / (sum(rate(ai_request_total[5m])) > 0)',
      },
      {
        [COMMENT]:
          'ws_drop_rate: abnormal closes / connections opened (the spec had no denominator).',
        record: 'sli:ws_drop_rate:ratio_rate5m',
        expr: '(sum(rate(ws_dropped_connections_total[5m])) or vector(0)) / (sum(rate(ws_connections_opened_total[5m])) > 0)',
      },
      {
        [COMMENT]:
          'Jobs waiting to run, by queue: waiting + prioritized, never failed or delayed. max by state\nfirst, because every service that monitors a queue reports the same counts.',
        record: 'sli:queue_waiting_jobs:sum',
        expr: 'sum by (queue) (max by (queue, state) (queue_depth{state=~"waiting|prioritized"}))',
      },
    ],
  };
}

/** Runbook slugs of the alerts below. */
export const RUNBOOKS = {
  edge: 'rb-01-edge-availability',
  reflect: 'rb-02-reflect-latency',
  import: 'rb-03-workers-import',
  ai: 'rb-04-ai-coach',
  postgres: 'rb-05-postgres-locks-bloat',
  redis: 'rb-06-redis',
  fanout: 'rb-07-fanout-drops',
  jwt: 'rb-08-jwt-key-rotation',
} as const;

/**
 * The spec's alerts under their names (with its mistakes fixed, each fix in
 * the comment above the rule), and the alerts of RB-06 and RB-07.
 */
export function productAlertGroups(
  n: ResolvedSpecNames,
  runbook: (slug: string) => string,
): YamlMap[] {
  const reflect = `type=${quote(n.reflectEventType)}`;
  const waiting = `sli:queue_waiting_jobs:sum{queue=${quote(n.importQueue)}}`;
  return [
    {
      name: 'product-slos',
      rules: [
        {
          [COMMENT]:
            'Spec fix: the spec summed over `le` only, so a WebSocket-only breach hidden by a fast SSE path\nnever fired; now per channel. Only reflection events count (the lag histogram now has `type`),\nand a channel needs 10 deliveries in 5m. EdgeAvailabilityBurn is the login SLO burn-rate alert.',
          alert: 'ReflectLatencyP95High',
          expr:
            `histogram_quantile(0.95, sum by (channel, le) (rate(event_delivery_lag_ms_bucket{${reflect}}[5m]))) > 3000\n` +
            `and sum by (channel) (increase(event_delivery_lag_ms_count{${reflect}}[5m])) >= 10`,
          for: '10m',
          labels: { severity: 'page' },
          annotations: {
            summary: 'Coach reflect p95 > 3s on {{ $labels.channel }}',
            description:
              'The p95 delivery lag of coach reflections over {{ $labels.channel }} is above 3 s.',
            runbook_url: runbook(RUNBOOKS.reflect),
            dashboard: 'stacklight-user-journey / Reflect delivery p50 / p95',
          },
        },
        {
          [COMMENT]:
            'Spec fix: the spec paged on a level (> 200) of every state, failed included, which BullMQ\nretains: 250 old failed jobs paged with nothing waiting. Now: waiting (+ prioritized) jobs grew\nby more than 50 over 15 minutes and more than 50 are waiting, for 15 minutes.',
          alert: 'ImportBacklogGrowing',
          expr: `(${waiting} - ${waiting} offset 15m) > 50\nand ${waiting} > 50`,
          for: '15m',
          labels: { severity: 'page' },
          annotations: {
            summary: 'Import backlog growing: more than 50 more waiting jobs than 15 minutes ago',
            description:
              'Jobs waiting in {{ $labels.queue }} keep growing: workers do not keep up.',
            runbook_url: runbook(RUNBOOKS.import),
            dashboard: 'stacklight-core-workers / Queue depth (waiting)',
          },
        },
        {
          [COMMENT]:
            'As the spec, with a minimum-traffic guard (20 calls in 5m): two failures out of three calls\nat night are not an incident. Timeouts are errors (reason="timeout").',
          alert: 'AIErrorRateHigh',
          expr:
            '(sum(rate(ai_request_errors_total[5m])) / sum(rate(ai_request_total[5m]))) > 0.05\n' +
            'and sum(increase(ai_request_total[5m])) >= 20',
          for: '10m',
          labels: { severity: 'page' },
          annotations: {
            summary: 'AI service errors > 5%',
            description: 'More than 5 % of AI Coach calls fail (timeouts included).',
            runbook_url: runbook(RUNBOOKS.ai),
            dashboard: 'stacklight-ai-coach / Error rate & timeouts',
          },
        },
        {
          [COMMENT]:
            'Spec fix (external: postgres_exporter). pg_locks, pg_stat_progress_vacuum and pg_bloat_ratio are\nnot postgres_exporter\'s names, the `and` joined different label sets, and "no vacuum running" is\nnot measurable. Now: an exclusive lock (modes are lower-case) held for 15 minutes, or a table\nwith > 30 % dead tuples (and > 10000 of them) that autovacuum has not visited for a day.',
          alert: 'PostgresBloatOrLocks',
          expr:
            'sum by (datname, mode) (pg_locks_count{mode=~"accessexclusivelock|exclusivelock"}) > 0\n' +
            'or (\n' +
            '  pg_stat_user_tables_n_dead_tup / clamp_min(pg_stat_user_tables_n_live_tup + pg_stat_user_tables_n_dead_tup, 1) > 0.3\n' +
            '  and pg_stat_user_tables_n_dead_tup > 10000\n' +
            '  and (time() - pg_stat_user_tables_last_autovacuum) > 86400\n' +
            ')',
          for: '15m',
          labels: { severity: 'ticket' },
          annotations: {
            summary: 'Investigate locks/bloat',
            description:
              'Exclusive locks held, or dead tuples piling up without vacuum ({{ $labels.datname }} {{ $labels.relname }}).',
            runbook_url: runbook(RUNBOOKS.postgres),
            dashboard: 'stacklight-infra / Postgres dead tuples (bloat)',
          },
        },
      ],
    },
    {
      name: 'stacklight-infra-fanout',
      rules: [
        {
          [COMMENT]: 'RB-06 (external: redis_exporter): Redis unreachable. Queues pause.',
          alert: 'RedisDown',
          expr: 'redis_up == 0',
          for: '2m',
          labels: { severity: 'page' },
          annotations: {
            summary: 'Redis is down ({{ $labels.instance }})',
            runbook_url: runbook(RUNBOOKS.redis),
            dashboard: 'stacklight-infra / Redis memory',
          },
        },
        {
          [COMMENT]:
            "RB-06 (external: redis_exporter): keys evicted. The spec's panel `redis_connected_clients or on()\n(redis_evicted_keys_total > 0)` never showed evictions while Redis was up; the metric is\nredis_evicted_keys_total (not redis_evictions_total), and a counter is read by its increase.",
          alert: 'RedisEvictingKeys',
          expr: 'increase(redis_evicted_keys_total[10m]) > 0',
          for: '5m',
          labels: { severity: 'ticket' },
          annotations: {
            summary: 'Redis evicts keys ({{ $labels.instance }})',
            runbook_url: runbook(RUNBOOKS.redis),
            dashboard: 'stacklight-infra / Redis evictions',
          },
        },
        {
          [COMMENT]:
            'RB-07: WebSocket drop rate = abnormal closes / connections opened (ws_connections_opened_total\nis the denominator the spec lacked), above 5 % with at least 20 connections opened in 10m.',
          alert: 'WsDropRateHigh',
          expr:
            '(sum(rate(ws_dropped_connections_total[10m])) / sum(rate(ws_connections_opened_total[10m]))) > 0.05\n' +
            'and sum(increase(ws_connections_opened_total[10m])) >= 20',
          for: '10m',
          labels: { severity: 'ticket' },
          annotations: {
            summary: 'More than 5 % of WebSocket connections drop',
            runbook_url: runbook(RUNBOOKS.fanout),
            dashboard: 'stacklight-user-journey / WS active connections & drop rate',
          },
        },
        {
          [COMMENT]:
            'RB-07: the Edge subscriber of the Core SSE stream reconnects or drops events.',
          alert: 'SseStreamUnstable',
          expr:
            'sum by (service) (increase(sse_reconnects_total[10m])) > 3\n' +
            'or sum by (service) (increase(sse_dropped_events_total[10m])) > 0',
          for: '10m',
          labels: { severity: 'ticket' },
          annotations: {
            summary: 'SSE event stream unstable on {{ $labels.service }}',
            runbook_url: runbook(RUNBOOKS.fanout),
            dashboard: 'stacklight-core-workers / SSE reconnects & drops',
          },
        },
      ],
    },
  ];
}
