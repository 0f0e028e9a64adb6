import { defineSlo } from './define.js';
import type { SloDefinition } from './types.js';

/** The product's names the spec's SLOs and alerts refer to. */
export interface SpecNames {
  /**
   * `service` label values of the stacks.
   * @default { edge: 'edge', core: 'core', workers: 'workers', ai: 'ai-coach' }
   */
  readonly services?: {
    readonly edge?: string;
    readonly core?: string;
    readonly workers?: string;
    readonly ai?: string;
  };
  /**
   * Route templates of the login path on Edge. Empty: every Edge route (the
   * spec's `edge_http_availability` is Edge-wide).
   * @default []
   */
  readonly loginRoutes?: readonly string[];
  /**
   * Event type of a coach reflection (the `type` label of `event_delivery_lag_ms`).
   * @default 'coach.reflection'
   */
  readonly reflectEventType?: string;
  /**
   * The import queue (the `queue` label of `queue_depth`).
   * @default 'q_import'
   */
  readonly importQueue?: string;
  /**
   * Rolling window of the SLOs.
   * @default '90d'
   */
  readonly window?: string;
}

/** {@link SpecNames} with every default filled in. */
export interface ResolvedSpecNames {
  readonly services: { edge: string; core: string; workers: string; ai: string };
  readonly loginRoutes: readonly string[];
  readonly reflectEventType: string;
  readonly importQueue: string;
  readonly window: string;
}

/** Fills in the defaults of {@link SpecNames}. */
export function resolveSpecNames(names: SpecNames = {}): ResolvedSpecNames {
  return {
    services: {
      edge: names.services?.edge ?? 'edge',
      core: names.services?.core ?? 'core',
      workers: names.services?.workers ?? 'workers',
      ai: names.services?.ai ?? 'ai-coach',
    },
    loginRoutes: names.loginRoutes ?? [],
    reflectEventType: names.reflectEventType ?? 'coach.reflection',
    importQueue: names.importQueue ?? 'q_import',
    window: names.window ?? '90d',
  };
}

/** A PromQL string literal. */
export function quote(value: string): string {
  return JSON.stringify(value);
}

/** `label=~"a|b"` with regex metacharacters of each value escaped. */
export function anyOf(label: string, values: readonly string[]): string {
  const escaped = values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return `${label}=~${quote(escaped.join('|'))}`;
}

/**
 * The spec's five SLOs (90-day rolling):
 * login availability ≥ 99.9 % and p95 ≤ 250 ms; reflect delivery median
 * ≤ 1.5 s and p95 ≤ 3 s; trade import ≤ 60 s p95 end to end; simulation
 * p95 ≤ 3 s cold and ≤ 1 s warm; weekly digest on time for 99 % of users.
 */
export function specSlos(names: SpecNames = {}): readonly SloDefinition[] {
  const n = resolveSpecNames(names);
  const edge = `service=${quote(n.services.edge)}`;
  const login = n.loginRoutes.length === 0 ? edge : `${edge},${anyOf('route', n.loginRoutes)}`;
  const workers = `service=${quote(n.services.workers)}`;
  const window = n.window;
  return [
    defineSlo({
      name: 'login',
      title: 'Login success path',
      description:
        'Users log in through Edge (and Core behind it): requests succeed and answer quickly. Probe traffic (baggage synthetic=true) is not counted.',
      window,
      runbook: 'rb-01-edge-availability',
      dashboard: { uid: 'stacklight-user-journey', panel: 'Edge availability' },
      objectives: [
        {
          name: 'availability',
          description: '99.9 % of requests answer without a 5xx (gateway timeouts are 504s)',
          target: 0.999,
          alert: 'EdgeAvailabilityBurn',
          sli: {
            kind: 'ratio',
            metric: 'http_requests_total',
            matchers: login,
            badMatchers: 'code=~"5.."',
          },
        },
        {
          name: 'latency_p95',
          description: '95 % of requests answer within 250 ms',
          target: 0.95,
          alert: 'LoginLatencyBurn',
          sli: {
            kind: 'latency',
            metric: 'http_request_duration_seconds',
            matchers: login,
            threshold: 0.25,
          },
        },
      ],
    }),
    defineSlo({
      name: 'reflect',
      title: 'Coach reflect delivery',
      description:
        'A coach reflection reaches the browser over WebSocket: outbox write to WS send.',
      window,
      runbook: 'rb-02-reflect-latency',
      dashboard: { uid: 'stacklight-user-journey', panel: 'Reflect delivery p50 / p95' },
      objectives: [
        {
          name: 'latency_p50',
          description: 'half of the reflections are delivered within 1.5 s',
          target: 0.5,
          sli: {
            kind: 'latency',
            metric: 'event_delivery_lag_ms',
            matchers: `channel="ws",type=${quote(n.reflectEventType)}`,
            threshold: 1500,
          },
        },
        {
          name: 'latency_p95',
          description: '95 % of the reflections are delivered within 3 s',
          target: 0.95,
          alert: 'ReflectDeliveryBurn',
          sli: {
            kind: 'latency',
            metric: 'event_delivery_lag_ms',
            matchers: `channel="ws",type=${quote(n.reflectEventType)}`,
            threshold: 3000,
          },
        },
      ],
    }),
    defineSlo({
      name: 'import',
      title: 'Trade import',
      description:
        'An import job completes within 60 s of being added (queue wait, every page and retry included).',
      window,
      runbook: 'rb-03-workers-import',
      dashboard: { uid: 'stacklight-core-workers', panel: 'Job completion p95 (end to end)' },
      objectives: [
        {
          name: 'latency_p95',
          description: '95 % of imports complete within 60 s',
          target: 0.95,
          alert: 'ImportCompletionBurn',
          sli: {
            kind: 'latency',
            metric: 'job_completion_duration_seconds',
            matchers: `${workers},job="import"`,
            threshold: 60,
          },
        },
      ],
    }),
    defineSlo({
      name: 'simulation',
      title: 'Simulation',
      description:
        'A simulation completes within 3 s computed cold, within 1 s from a warm cache (runs that never call markJobCache count as cold).',
      window,
      runbook: 'rb-03-workers-import',
      dashboard: { uid: 'stacklight-core-workers', panel: 'Job completion p95 (end to end)' },
      objectives: [
        {
          name: 'cold_p95',
          description: '95 % of cold simulations complete within 3 s',
          target: 0.95,
          alert: 'SimulationColdBurn',
          sli: {
            kind: 'latency',
            metric: 'job_completion_duration_seconds',
            matchers: `${workers},job="sim",cache!="warm"`,
            threshold: 3,
          },
        },
        {
          name: 'warm_p95',
          description: '95 % of warm simulations complete within 1 s',
          target: 0.95,
          alert: 'SimulationWarmBurn',
          sli: {
            kind: 'latency',
            metric: 'job_completion_duration_seconds',
            matchers: `${workers},job="sim",cache="warm"`,
            threshold: 1,
          },
        },
      ],
    }),
    defineSlo({
      name: 'digest',
      title: 'Weekly digest',
      description:
        'Every active user has the weekly digest by Monday 09:00 UTC: on-time deliveries over recipients due.',
      window,
      runbook: 'rb-03-workers-import',
      dashboard: { uid: 'stacklight-core-workers', panel: 'Weekly digest on time' },
      objectives: [
        {
          name: 'on_time',
          description: '99 % of active users get the digest by Monday 09:00 UTC',
          target: 0.99,
          alert: 'WeeklyDigestLate',
          // A weekly batch: short windows see a run half done, not a burn.
          burnRate: false,
          sli: {
            kind: 'ratio',
            metric: 'digest_recipients_total',
            matchers: workers,
            badMatchers: 'outcome="on_time"',
            goodMetric: 'digest_deliveries_total',
          },
        },
      ],
    }),
  ];
}
