import { resolveSpecNames, quote, type ResolvedSpecNames } from './spec.js';
import type { GeneratedFile, GenerateOptions } from './rules.js';

/** Where a panel's data comes from. */
export type PanelSource = 'stacklight' | 'postgres_exporter' | 'redis_exporter';

/** One query of a panel. */
export interface PanelQuery {
  readonly expr: string;
  readonly legend: string;
}

/** One panel, before it becomes Grafana JSON. */
export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  /** Grafana unit id: `percentunit`, `s`, `ms`, `reqps`, `short`, `bytes`. */
  readonly unit: string;
  readonly source: PanelSource;
  readonly queries: readonly PanelQuery[];
}

/** One dashboard, before it becomes Grafana JSON. */
export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly file: string;
  readonly panels: readonly PanelSpec[];
}

/** Matchers of the `service` and `env` dashboard variables. */
const VARS = 'service=~"$service",env=~"$env"';
const RATE = '$__rate_interval';

function s(metric: string, extra = ''): string {
  return `${metric}{${extra === '' ? VARS : `${VARS},${extra}`}}`;
}

function p(
  title: string,
  description: string,
  unit: string,
  queries: readonly [string, string][],
  source: PanelSource = 'stacklight',
): PanelSpec {
  return {
    title,
    description,
    unit,
    source,
    queries: queries.map(([expr, legend]) => ({ expr, legend })),
  };
}

const q95 = (metric: string, by: string, extra = ''): string =>
  `histogram_quantile(0.95, sum by (${by}le) (rate(${s(`${metric}_bucket`, extra)}[${RATE}])))`;
const q50 = (metric: string, by: string, extra = ''): string =>
  `histogram_quantile(0.5, sum by (${by}le) (rate(${s(`${metric}_bucket`, extra)}[${RATE}])))`;

/**
 * The spec's four dashboards, one panel per item it lists (plus the SLO
 * panels the alerts point at). Queries use catalog names only, except the
 * Infra panels, which read postgres_exporter and redis_exporter (external).
 */
export function dashboardSpecs(names: ResolvedSpecNames): DashboardSpec[] {
  const reflect = `type=${quote(names.reflectEventType)}`;
  return [
    {
      uid: 'stacklight-user-journey',
      title: 'User Journey',
      file: 'user-journey.json',
      panels: [
        p(
          'Edge availability',
          'Share of requests without a 5xx, per service (probe traffic excluded). SLO: 99.9 %.',
          'percentunit',
          [
            [
              `1 - (sum by (service) (rate(${s('http_requests_total', 'code=~"5.."')}[${RATE}])) or (sum by (service) (rate(${s('http_requests_total')}[${RATE}])) * 0)) / sum by (service) (rate(${s('http_requests_total')}[${RATE}]))`,
              '{{service}}',
            ],
          ],
        ),
        p('Edge p95 latency', 'p95 request duration per service. SLO: login p95 ≤ 250 ms.', 's', [
          [q95('http_request_duration_seconds', 'service, '), '{{service}} p95'],
        ]),
        p(
          'Reflect delivery p50 / p95',
          'Outbox write → send of coach reflections, per channel. SLO: median ≤ 1.5 s, p95 ≤ 3 s.',
          'ms',
          [
            [q50('event_delivery_lag_ms', 'channel, ', reflect), '{{channel}} p50'],
            [q95('event_delivery_lag_ms', 'channel, ', reflect), '{{channel}} p95'],
          ],
        ),
        p(
          'WS active connections & drop rate',
          'Open WebSockets, and abnormal closes per connection opened.',
          'short',
          [
            [`sum by (service) (${s('ws_active_connections')})`, '{{service}} active'],
            [
              `sum by (service) (rate(${s('ws_dropped_connections_total')}[${RATE}])) / sum by (service) (rate(${s('ws_connections_opened_total')}[${RATE}]))`,
              '{{service}} drop rate',
            ],
          ],
        ),
        p(
          'Error budget remaining',
          'Per SLO objective, from the stacklight rules (1 = untouched, ≤ 0 = exhausted).',
          'percentunit',
          [['slo:error_budget:remaining{slo=~".+"}', '{{slo}} {{objective}}']],
        ),
      ],
    },
    {
      uid: 'stacklight-core-workers',
      title: 'Core & Workers',
      file: 'core-workers.json',
      panels: [
        p(
          'Queue depth (waiting)',
          'Jobs per queue and state (failed jobs are retained by BullMQ: watch waiting).',
          'short',
          [[`max by (queue, state) (${s('queue_depth')})`, '{{queue}} {{state}}']],
        ),
        p(
          'Job durations p95',
          'Processor time of one attempt, per job kind (needs honor_labels: true for the job label).',
          'ms',
          [[q95('job_duration_ms', 'queue, job, '), '{{job}} p95']],
        ),
        p(
          'Job completion p95 (end to end)',
          'Added → done, queue wait and retries included; SLOs: import ≤ 60 s, sim ≤ 3 s cold / 1 s warm.',
          's',
          [[q95('job_completion_duration_seconds', 'job, cache, '), '{{job}} {{cache}} p95']],
        ),
        p(
          'Outbox writes/sec & replay latency',
          'Events appended per second, and outbox → SSE subscriber lag (p95), replays included.',
          'short',
          [
            [
              `sum by (type) (rate(${s('event_outbox_writes_total')}[${RATE}]))`,
              '{{type}} writes/s',
            ],
            [
              `histogram_quantile(0.95, sum by (le) (rate(${s('sse_stream_lag_seconds_bucket')}[${RATE}])))`,
              'stream lag p95 (s)',
            ],
          ],
        ),
        p(
          'Import progress per broker',
          'Import jobs finished per second by status, and broker (vendor) calls and 429s per second. Per-job progress is in the `job progress` log lines (with broker).',
          'reqps',
          [
            [
              `sum by (status) (rate(${s('job_completion_duration_seconds_count', 'job="import"')}[${RATE}]))`,
              'imports {{status}}',
            ],
            [
              `sum by (vendor) (rate(${s('vendor_req_duration_ms_count')}[${RATE}]))`,
              '{{vendor}} calls/s',
            ],
            [`sum by (vendor) (rate(${s('vendor_429_total')}[${RATE}]))`, '{{vendor}} 429/s'],
          ],
        ),
        p(
          'Weekly digest on time',
          'Digests delivered on time over recipients due, over 7 days. SLO: 99 %.',
          'percentunit',
          [
            [
              `sum(increase(${s('digest_deliveries_total', 'outcome="on_time"')}[7d])) / sum(increase(${s('digest_recipients_total')}[7d]))`,
              'on time',
            ],
          ],
        ),
        p(
          'SSE reconnects & drops',
          'Edge subscriber of the Core event stream: reconnects and events dropped, by reason.',
          'short',
          [
            [
              `sum by (reason) (increase(${s('sse_reconnects_total')}[${RATE}]))`,
              'reconnect {{reason}}',
            ],
            [
              `sum by (reason) (increase(${s('sse_dropped_events_total')}[${RATE}]))`,
              'dropped {{reason}}',
            ],
          ],
        ),
      ],
    },
    {
      uid: 'stacklight-ai-coach',
      title: 'AI Coach',
      file: 'ai-coach.json',
      panels: [
        p(
          'p95 per endpoint',
          'AI Coach call duration p95, per endpoint, seen by its callers.',
          'ms',
          [[q95('ai_request_duration_ms', 'endpoint, '), '{{endpoint}}']],
        ),
        p(
          'Error rate & timeouts',
          'Failed calls over calls, and failures by reason (timeout, network, http_5xx, http_4xx).',
          'percentunit',
          [
            [
              `sum(rate(${s('ai_request_errors_total')}[${RATE}])) / sum(rate(${s('ai_request_total')}[${RATE}]))`,
              'error rate',
            ],
            [
              `sum by (reason) (rate(${s('ai_request_errors_total')}[${RATE}])) / scalar(sum(rate(${s('ai_request_total')}[${RATE}])))`,
              '{{reason}}',
            ],
          ],
        ),
        p('Throughput', 'AI Coach calls per second, per endpoint.', 'reqps', [
          [`sum by (endpoint) (rate(${s('ai_request_total')}[${RATE}]))`, '{{endpoint}}'],
        ]),
      ],
    },
    {
      uid: 'stacklight-infra',
      title: 'Infra',
      file: 'infra.json',
      panels: [
        p(
          'Postgres connections',
          'Backends per database (postgres_exporter).',
          'short',
          [['sum by (datname) (pg_stat_database_numbackends)', '{{datname}}']],
          'postgres_exporter',
        ),
        p(
          'Postgres slow queries',
          'Longest running transaction per database and state (postgres_exporter).',
          's',
          [['max by (datname, state) (pg_stat_activity_max_tx_duration)', '{{datname}} {{state}}']],
          'postgres_exporter',
        ),
        p(
          'Postgres dead tuples (bloat)',
          'Dead tuples over all tuples per table: the exporter’s stand-in for pgstattuple (add a pgstattuple custom query for exact bloat).',
          'percentunit',
          [
            [
              'topk(10, pg_stat_user_tables_n_dead_tup / clamp_min(pg_stat_user_tables_n_live_tup + pg_stat_user_tables_n_dead_tup, 1))',
              '{{datname}}.{{relname}}',
            ],
          ],
          'postgres_exporter',
        ),
        p(
          'Postgres deadlocks',
          'Deadlocks per second per database (postgres_exporter).',
          'short',
          [
            [
              'sum by (datname) (rate(pg_stat_database_deadlocks[$__rate_interval]))',
              '{{datname}}',
            ],
          ],
          'postgres_exporter',
        ),
        p(
          'Redis ops/sec',
          'Commands processed per second (redis_exporter).',
          'ops',
          [
            [
              'sum by (instance) (rate(redis_commands_processed_total[$__rate_interval]))',
              '{{instance}}',
            ],
          ],
          'redis_exporter',
        ),
        p(
          'Redis memory',
          'Used and max memory (redis_exporter).',
          'bytes',
          [
            ['redis_memory_used_bytes', '{{instance}} used'],
            ['redis_memory_max_bytes', '{{instance}} max'],
          ],
          'redis_exporter',
        ),
        p(
          'Redis evictions',
          'Keys evicted per second (redis_evicted_keys_total, redis_exporter).',
          'short',
          [
            [
              'sum by (instance) (rate(redis_evicted_keys_total[$__rate_interval]))',
              '{{instance}}',
            ],
          ],
          'redis_exporter',
        ),
        p(
          'S3 4xx/5xx & latency',
          'S3/MinIO calls made through a stacklight vendor client named "s3": errors per second by status and p95 latency.',
          'short',
          [
            [
              `sum by (code) (rate(${s('vendor_req_duration_ms_count', 'vendor="s3",code=~"4..|5.."')}[${RATE}]))`,
              '{{code}}/s',
            ],
            [q95('vendor_req_duration_ms', '', 'vendor="s3"'), 'p95 (ms)'],
          ],
        ),
      ],
    },
  ];
}

function variables(): unknown[] {
  const ds = { type: 'prometheus', uid: '${datasource}' };
  const query = (name: string, label: string, q: string) => ({
    name,
    label,
    type: 'query',
    datasource: ds,
    query: { query: q, refId: `${name}-variable` },
    definition: q,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
  });
  return [
    {
      name: 'datasource',
      label: 'Data source',
      type: 'datasource',
      query: 'prometheus',
      current: {},
    },
    query('service', 'Service', 'label_values(stacklight_build_info, service)'),
    query('env', 'Environment', 'label_values(stacklight_build_info{service=~"$service"}, env)'),
  ];
}

/** Grafana dashboard JSON of a spec (schema 39, Grafana 10/11). */
export function dashboardJson(d: DashboardSpec): Record<string, unknown> {
  const ds = { type: 'prometheus', uid: '${datasource}' };
  return {
    uid: d.uid,
    title: d.title,
    tags: ['stacklight'],
    timezone: 'utc',
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    annotations: { list: [] },
    templating: { list: variables() },
    panels: d.panels.map((panel, i) => ({
      id: i + 1,
      type: 'timeseries',
      title: panel.title,
      description:
        panel.source === 'stacklight'
          ? panel.description
          : `${panel.description} Needs ${panel.source} scraped by the same Prometheus.`,
      datasource: ds,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true } },
      targets: panel.queries.map((q, j) => ({
        refId: String.fromCharCode(65 + j),
        datasource: ds,
        expr: q.expr,
        legendFormat: q.legend,
      })),
    })),
  };
}

/**
 * Generates the four Grafana dashboards as JSON files (`user-journey.json`,
 * `core-workers.json`, `ai-coach.json`, `infra.json`). Same options, same bytes.
 */
export function generateDashboards(options: GenerateOptions = {}): GeneratedFile[] {
  return dashboardSpecs(resolveSpecNames(options)).map((d) => ({
    path: d.file,
    content: `${JSON.stringify(dashboardJson(d), null, 2)}\n`,
  }));
}

/**
 * A dashboard query as Prometheus can run it: Grafana's variables replaced
 * (`$service`/`$env` by `.*`, `$__rate_interval` by `interval`).
 */
export function runnableQuery(expr: string, interval = '5m'): string {
  return expr
    .replaceAll('$__rate_interval', interval)
    .replaceAll('$service', '.*')
    .replaceAll('$env', '.*');
}
