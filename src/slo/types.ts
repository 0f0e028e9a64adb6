/**
 * Public shapes of SLO definitions. An SLO is a user journey with one or
 * more objectives; each objective is a ratio of good events to all events
 * over the SLO's window, measured from catalog metrics:
 *
 * - `ratio`: bad events / all events from two counter selectors (availability);
 * - `latency`: events slower than a threshold / all events, from a
 *   histogram's bucket at the threshold ("p95 ≤ 250 ms" is "at least 95 % of
 *   requests take ≤ 250 ms"; the threshold must be a bucket bound).
 *
 * The generators turn every objective into recording rules, multi-window
 * multi-burn-rate alerts, dashboard panels and an `slo status` row.
 */

/** A PromQL label matcher list without braces: `service="edge",code=~"5.."`. */
export type Matchers = string;

/** Bad / total events from counters (both `rate()`d over each window). */
export interface RatioSli {
  readonly kind: 'ratio';
  /** Counter of all events (a catalog counter name, `_total` included). */
  readonly metric: string;
  /** Matchers selecting the events in scope (both numerator and denominator). */
  readonly matchers: Matchers;
  /**
   * Extra matchers selecting the bad events among them (`code=~"5.."`), or
   * the good ones when `goodMetric` is set.
   */
  readonly badMatchers: Matchers;
  /**
   * A different counter for the bad events (e.g. `ai_request_errors_total`
   * over `ai_request_total`); its matchers are `matchers` + `badMatchers`.
   */
  readonly badMetric?: string;
  /**
   * A counter of good events instead (`digest_deliveries_total` with
   * `outcome="on_time"` over `digest_recipients_total`): bad = total − good.
   */
  readonly goodMetric?: string;
}

/** Events slower than `threshold` / all events, from a histogram. */
export interface LatencySli {
  readonly kind: 'latency';
  /** Histogram base name (without `_bucket`). */
  readonly metric: string;
  readonly matchers: Matchers;
  /** Threshold in the histogram's unit; must be one of its bucket bounds. */
  readonly threshold: number;
}

/** How an objective's events are measured. */
export type Sli = RatioSli | LatencySli;

/** One objective of an SLO. */
export interface SloObjective {
  /** Short identifier, the `objective` label of the recording rules: `availability`, `p95`. */
  readonly name: string;
  /** Human text: `99.9 % of requests succeed`. */
  readonly description: string;
  /** Share of good events, in (0, 1): 0.999, 0.95. */
  readonly target: number;
  readonly sli: Sli;
  /**
   * Name of the paging burn-rate alert; the ticket alert adds `Ticket`.
   * @default `<SloName><ObjectiveName>Burn` in PascalCase
   */
  readonly alert?: string;
  /**
   * Fewest events in the long window of a burn-rate alert for it to fire
   * (the minimum-traffic guard: one failure out of three requests is not an
   * outage).
   * @default 100 per hour of window (1 h: 100, 6 h: 600, 3 d: 7200)
   */
  readonly minEventsPerHour?: number;
  /**
   * Generate burn-rate alerts. `false` for batch SLIs (a weekly job) whose
   * short windows see a run half done rather than a burn; the objective then
   * gets one alert on its whole window instead.
   * @default true
   */
  readonly burnRate?: boolean;
}

/** An SLO: a user journey, its window, its objectives and its runbook. */
export interface SloDefinition {
  /** Identifier, the `slo` label of the recording rules: lower-case, digits and `-`. */
  readonly name: string;
  /** Human title: `Login success path`. */
  readonly title: string;
  readonly description: string;
  /** Rolling window as a Prometheus duration: `90d`, `28d`, `7d`. */
  readonly window: string;
  readonly objectives: readonly SloObjective[];
  /** The runbook page slug under `<docs base>/runbooks/`: `rb-01-edge-availability`. */
  readonly runbook: string;
  /** The dashboard (uid) and panel title to open first. */
  readonly dashboard?: { readonly uid: string; readonly panel: string };
}
