/**
 * The metric catalog: every metric stacklight emits, as data. Runtime
 * instruments, lint rules, docs rows and dashboards are all derived from this
 * one table, so a name, label set or bucket list is written exactly once.
 *
 * Names are the observability spec's, verbatim (its PromQL and alerts use
 * them), including the `_ms` histograms that Prometheus naming advice would
 * spell `_seconds`; see docs/metrics.md for why they stay.
 *
 * `service` (and `env`/`region` when enabled) are registry-wide default labels
 * and are therefore not listed in `labelNames`.
 */

/** Instrument kind of a catalog entry. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One catalog entry. */
export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
  /**
   * Labels whose values come from a small fixed set produced by stacklight
   * itself (status codes, method, state, reason). They keep their value on
   * the overflow series so that SLO ratios stay exact even past the cap.
   */
  readonly boundedLabels?: readonly string[];
  /** Histogram bucket upper bounds, ascending, in the metric's unit. */
  readonly buckets?: readonly number[];
  /**
   * Unit of the value, for docs (`'seconds'`, `'bytes'`, `'requests'`, …).
   * Free text: the name's suffix is what the rules check (a histogram's
   * name ends in a base unit, see `rules.ts`).
   */
  readonly unit?: string;
  /** Which stacks emit it (spec's S1–S5), for docs. Optional for a service's own metrics. */
  readonly stacks?: readonly string[];
  /** SLO thresholds the buckets are guaranteed to contain. */
  readonly sloThresholds?: readonly number[];
}

const HTTP_SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10,
] as const;

/** Job runs: simulation SLO at 1 s (warm) and 3 s (cold), import at 60 s. */
const JOB_MS_BUCKETS = [
  10, 25, 50, 100, 250, 500, 1000, 1500, 2000, 3000, 5000, 10000, 20000, 30000, 45000, 60000, 90000,
  120000, 300000, 600000,
] as const;

/** Event delivery (outbox → WS send): reflect SLO median 1.5 s, p95 3 s. */
const DELIVERY_MS_BUCKETS = [
  5, 10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000, 60000,
] as const;

/** SSE stream lag (outbox → subscriber), in seconds: the same bounds as delivery lag. */
const SSE_LAG_SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60,
] as const;

/** Job completion (added → done): simulation at 1 s / 3 s, import at 60 s. */
const JOB_COMPLETION_SECONDS_BUCKETS = [
  0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 20, 30, 45, 60, 90, 120, 300, 600, 1800, 3600,
] as const;

const VENDOR_MS_BUCKETS = [
  10, 25, 50, 100, 250, 500, 1000, 1500, 2500, 3000, 5000, 10000, 30000, 60000,
] as const;

/** AI Coach calls: nlg.reflect sits inside the 1.5 s / 3 s reflect budget. */
const AI_MS_BUCKETS = [
  10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000,
] as const;

/**
 * The catalog. Keys are the property names of `telemetry.metrics`.
 */
export const METRIC_CATALOG = {
  httpRequestsTotal: {
    name: 'http_requests_total',
    type: 'counter',
    help: 'HTTP requests handled, by route template, method and status code.',
    labelNames: ['route', 'method', 'code'],
    boundedLabels: ['method', 'code'],
    unit: 'requests',
    stacks: ['S2', 'S3', 'S5'],
  },
  httpRequestDurationSeconds: {
    name: 'http_request_duration_seconds',
    type: 'histogram',
    help: 'HTTP request duration in seconds, by route template, method and status code.',
    labelNames: ['route', 'method', 'code'],
    boundedLabels: ['method', 'code'],
    buckets: HTTP_SECONDS_BUCKETS,
    sloThresholds: [0.25],
    unit: 'seconds',
    stacks: ['S2', 'S3', 'S5'],
  },
  jobDurationMs: {
    name: 'job_duration_ms',
    type: 'histogram',
    help: 'Background job run duration in milliseconds, by queue, job kind (import, score, sim, digest, else the job name) and status.',
    labelNames: ['queue', 'job', 'status'],
    boundedLabels: ['status'],
    buckets: JOB_MS_BUCKETS,
    sloThresholds: [1000, 3000, 60000],
    unit: 'milliseconds',
    stacks: ['S4'],
  },
  queueDepth: {
    name: 'queue_depth',
    type: 'gauge',
    help: 'Jobs in a queue by state (waiting, active, delayed, failed, prioritized), read at scrape time.',
    labelNames: ['queue', 'state'],
    boundedLabels: ['state'],
    unit: 'jobs',
    stacks: ['S3', 'S4'],
  },
  jobAttemptsTotal: {
    name: 'job_attempts_total',
    type: 'counter',
    help: 'Job runs started by a worker (first attempts and retries), by queue and job name.',
    labelNames: ['queue', 'job'],
    unit: 'jobs',
    stacks: ['S4'],
  },
  jobRetriesTotal: {
    name: 'job_retries_total',
    type: 'counter',
    help: 'Job runs that are a retry (attempt 2 or later), by queue and job name.',
    labelNames: ['queue', 'job'],
    unit: 'jobs',
    stacks: ['S4'],
  },
  jobFailuresTotal: {
    name: 'job_failures_total',
    type: 'counter',
    help: 'Job runs that failed, by queue, job name and whether the failure was final (no attempt left) or will be retried.',
    labelNames: ['queue', 'job', 'final'],
    boundedLabels: ['final'],
    unit: 'jobs',
    stacks: ['S4'],
  },
  jobStalledTotal: {
    name: 'job_stalled_total',
    type: 'counter',
    help: 'Jobs found stalled (their worker lost the lock) and moved back to wait or failed, by queue.',
    labelNames: ['queue'],
    unit: 'jobs',
    stacks: ['S4'],
  },
  eventOutboxWritesTotal: {
    name: 'event_outbox_writes_total',
    type: 'counter',
    help: 'Events appended to the outbox, by event type.',
    labelNames: ['type'],
    unit: 'events',
    stacks: ['S3'],
  },
  eventDeliveryLagMs: {
    name: 'event_delivery_lag_ms',
    type: 'histogram',
    help: 'Time from outbox write to delivery to the client (WebSocket or SSE send), in milliseconds, by channel and event type.',
    labelNames: ['channel', 'type'],
    boundedLabels: ['channel'],
    buckets: DELIVERY_MS_BUCKETS,
    sloThresholds: [1500, 3000],
    unit: 'milliseconds',
    stacks: ['S2', 'S3'],
  },
  vendor429Total: {
    name: 'vendor_429_total',
    type: 'counter',
    help: 'Responses with status 429 (rate limited) from external vendors.',
    labelNames: ['vendor'],
    unit: 'requests',
    stacks: ['S3', 'S4'],
  },
  vendorReqDurationMs: {
    name: 'vendor_req_duration_ms',
    type: 'histogram',
    help: 'External vendor request duration in milliseconds, by vendor and status code.',
    labelNames: ['vendor', 'code'],
    boundedLabels: ['code'],
    buckets: VENDOR_MS_BUCKETS,
    unit: 'milliseconds',
    stacks: ['S3', 'S4'],
  },
  aiRequestTotal: {
    name: 'ai_request_total',
    type: 'counter',
    help: 'Requests to the AI Coach service, by endpoint.',
    labelNames: ['endpoint'],
    unit: 'requests',
    stacks: ['S3', 'S4'],
  },
  aiRequestDurationMs: {
    name: 'ai_request_duration_ms',
    type: 'histogram',
    help: 'AI Coach request duration in milliseconds, by endpoint.',
    labelNames: ['endpoint'],
    buckets: AI_MS_BUCKETS,
    sloThresholds: [1500, 3000],
    unit: 'milliseconds',
    stacks: ['S3', 'S4'],
  },
  aiRequestErrorsTotal: {
    name: 'ai_request_errors_total',
    type: 'counter',
    help: 'Failed AI Coach requests, by endpoint and reason (timeout, network, http_5xx, http_4xx).',
    labelNames: ['endpoint', 'reason'],
    boundedLabels: ['reason'],
    unit: 'errors',
    stacks: ['S3', 'S4'],
  },
  wsActiveConnections: {
    name: 'ws_active_connections',
    type: 'gauge',
    help: 'Open WebSocket connections.',
    labelNames: [],
    unit: 'connections',
    stacks: ['S2'],
  },
  wsDroppedConnectionsTotal: {
    name: 'ws_dropped_connections_total',
    type: 'counter',
    help: 'WebSocket connections closed abnormally, by reason.',
    labelNames: ['reason'],
    boundedLabels: ['reason'],
    unit: 'connections',
    stacks: ['S2'],
  },
  // Not in the spec's list: the SSE subscriber's SLIs ("stream_lag, drops"
  // under /internal/events/subscribe in the health map; RB-07), issue 5. New
  // names follow Prometheus naming (base unit seconds); only the spec's own
  // names keep `_ms`.
  sseStreamLagSeconds: {
    name: 'sse_stream_lag_seconds',
    type: 'histogram',
    help: 'Time from outbox write to receipt by a subscriber of the SSE event stream (/internal/events/subscribe), in seconds.',
    labelNames: [],
    buckets: SSE_LAG_SECONDS_BUCKETS,
    sloThresholds: [1.5, 3],
    unit: 'seconds',
    stacks: ['S2'],
  },
  sseDroppedEventsTotal: {
    name: 'sse_dropped_events_total',
    type: 'counter',
    help: 'Events an SSE subscriber received but could not hand on, by reason (malformed, too_large, handler_error).',
    labelNames: ['reason'],
    boundedLabels: ['reason'],
    unit: 'events',
    stacks: ['S2'],
  },
  sseReconnectsTotal: {
    name: 'sse_reconnects_total',
    type: 'counter',
    help: 'SSE subscriber reconnects, by why the stream was lost (ended, network, http_error, idle_timeout).',
    labelNames: ['reason'],
    boundedLabels: ['reason'],
    unit: 'connections',
    stacks: ['S2'],
  },
  // SLIs the SLOs need that the spec's metrics cannot give (see docs/slo.md).
  jobCompletionDurationSeconds: {
    name: 'job_completion_duration_seconds',
    type: 'histogram',
    help: 'Time from a job being added to its last run ending (queue wait, delays and every attempt), by queue, job kind, final status (completed, failed) and cache (cold, warm, none).',
    labelNames: ['queue', 'job', 'status', 'cache'],
    boundedLabels: ['status', 'cache'],
    buckets: JOB_COMPLETION_SECONDS_BUCKETS,
    sloThresholds: [1, 3, 60],
    unit: 'seconds',
    stacks: ['S4'],
  },
  wsConnectionsOpenedTotal: {
    name: 'ws_connections_opened_total',
    type: 'counter',
    help: 'WebSocket connections opened (the denominator of the drop rate).',
    labelNames: [],
    unit: 'connections',
    stacks: ['S2'],
  },
  digestRecipientsTotal: {
    name: 'digest_recipients_total',
    type: 'counter',
    help: 'Active users a weekly digest was due for, counted when the digest run plans them.',
    labelNames: [],
    unit: 'events',
    stacks: ['S4'],
  },
  digestDeliveriesTotal: {
    name: 'digest_deliveries_total',
    type: 'counter',
    help: 'Weekly digests by outcome: on_time (delivered by the deadline, Monday 09:00 UTC by default), late, or failed.',
    labelNames: ['outcome'],
    boundedLabels: ['outcome'],
    unit: 'events',
    stacks: ['S4'],
  },
  httpSyntheticRequestsTotal: {
    name: 'http_synthetic_requests_total',
    type: 'counter',
    help: 'HTTP requests carrying W3C baggage synthetic=true (probes), by route template, method and status code; they are left out of http_requests_total and http_request_duration_seconds.',
    labelNames: ['route', 'method', 'code'],
    boundedLabels: ['method', 'code'],
    unit: 'requests',
    stacks: ['S2', 'S3', 'S5'],
  },
} as const satisfies Record<string, MetricDefinition>;

/**
 * Catalog metrics that appear in `/metrics` only once used, by family. The
 * HTTP metrics, stacklight's own and the process metrics are always there;
 * the metrics of a family are registered together when the helper that
 * records them is created (`instrumentQueue`, the AI and vendor clients,
 * `instrumentWebSocketServer`, …), when one of them records its first series, or
 * at `init()` when the family is listed in `metrics.families` (so that the
 * series, and the zeros of those without labels, are there from the start).
 */
export const METRIC_FAMILIES = {
  jobs: [
    'jobDurationMs',
    'queueDepth',
    'jobAttemptsTotal',
    'jobRetriesTotal',
    'jobFailuresTotal',
    'jobStalledTotal',
    'jobCompletionDurationSeconds',
  ],
  events: ['eventOutboxWritesTotal', 'eventDeliveryLagMs'],
  vendor: ['vendor429Total', 'vendorReqDurationMs'],
  ai: ['aiRequestTotal', 'aiRequestDurationMs', 'aiRequestErrorsTotal'],
  ws: ['wsActiveConnections', 'wsDroppedConnectionsTotal', 'wsConnectionsOpenedTotal'],
  sse: ['sseStreamLagSeconds', 'sseDroppedEventsTotal', 'sseReconnectsTotal'],
  digest: ['digestRecipientsTotal', 'digestDeliveriesTotal'],
} as const satisfies Record<string, readonly (keyof typeof METRIC_CATALOG)[]>;

/** A family of {@link METRIC_FAMILIES} (`metrics.families`). */
export type MetricFamily = keyof typeof METRIC_FAMILIES;

/** The names of {@link METRIC_FAMILIES}, in order. */
export const METRIC_FAMILY_NAMES = Object.freeze(
  Object.keys(METRIC_FAMILIES),
) as readonly MetricFamily[];

/**
 * stacklight's own health metrics. They carry the `stacklight_` prefix so that
 * they never collide with a service's metrics.
 */
export const SELF_METRIC_CATALOG = {
  buildInfo: {
    name: 'stacklight_build_info',
    type: 'gauge',
    help: 'Always 1; labels carry the service version, the stacklight version and the Node.js version.',
    labelNames: ['version', 'sdk_version', 'node_version'],
    unit: 'info',
    stacks: ['S1', 'S2', 'S3', 'S4', 'S5'],
  },
  seriesOverflowTotal: {
    name: 'stacklight_series_overflow_total',
    type: 'counter',
    help: 'Observations recorded under the overflow label value because the metric reached its series cap.',
    labelNames: ['metric'],
    unit: 'series',
    stacks: ['S1', 'S2', 'S3', 'S4', 'S5'],
  },
  invalidObservationsTotal: {
    name: 'stacklight_invalid_observations_total',
    type: 'counter',
    help: 'Observations dropped because the value was not a finite number (or negative for a counter).',
    labelNames: ['metric'],
    unit: 'errors',
    stacks: ['S1', 'S2', 'S3', 'S4', 'S5'],
  },
  internalErrorsTotal: {
    name: 'stacklight_internal_errors_total',
    type: 'counter',
    help: 'Errors absorbed inside stacklight (user callbacks, exporters, collectors), by component.',
    labelNames: ['component'],
    unit: 'errors',
    stacks: ['S1', 'S2', 'S3', 'S4', 'S5'],
  },
  logSchemaViolationsTotal: {
    name: 'stacklight_log_schema_violations_total',
    type: 'counter',
    help: 'Log fields moved out of the schema (unknown field or wrong type), by kind.',
    labelNames: ['kind'],
    boundedLabels: ['kind'],
    unit: 'lines',
    stacks: ['S1', 'S2', 'S3', 'S4', 'S5'],
  },
  logLinesDroppedTotal: {
    name: 'stacklight_log_lines_dropped_total',
    type: 'counter',
    help: 'Log lines the default stdout destination could not write, by reason (buffer_full, write_failed, write_timeout).',
    labelNames: ['reason'],
    boundedLabels: ['reason'],
    unit: 'lines',
    stacks: ['S1', 'S2', 'S3', 'S4', 'S5'],
  },
  labelValuesRedactedTotal: {
    name: 'stacklight_label_values_redacted_total',
    type: 'counter',
    help: 'Metric label values replaced by [REDACTED] because they held a secret or an e-mail address, by metric.',
    labelNames: ['metric'],
    unit: 'events',
    stacks: ['S1', 'S2', 'S3', 'S4', 'S5'],
  },
  spansDroppedTotal: {
    name: 'stacklight_spans_dropped_total',
    type: 'counter',
    help: 'Finished spans that were not exported, by reason (queue_full, export_failed, export_timeout, shutdown).',
    labelNames: ['reason'],
    boundedLabels: ['reason'],
    unit: 'spans',
    stacks: ['S1', 'S2', 'S3', 'S4', 'S5'],
  },
} as const satisfies Record<string, MetricDefinition>;

/** Every entry of both catalogs, for docs, lint rules and tests. */
export function allMetricDefinitions(): readonly MetricDefinition[] {
  return [...Object.values(METRIC_CATALOG), ...Object.values(SELF_METRIC_CATALOG)];
}

/** Label value used for the overflow series once a metric reaches its cap. */
export const OVERFLOW_LABEL_VALUE = '__overflow__';
