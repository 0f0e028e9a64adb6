import type { MetricDefinition } from './catalog.js';
import {
  labelsArg,
  matches,
  valueArg,
  type LabelValues,
  type PromMetricData,
  type PromMetricValue,
} from './instrument-shared.js';
import { BoundSeries, GuardedMetric, type GuardHooks, type SeriesLabels } from './series.js';

/** Where an exemplar for a histogram observation comes from. */
export type ExemplarSource = () => { traceId: string; spanId: string } | undefined;

/** An exemplar kept for one histogram bucket (OpenMetrics). */
export interface Exemplar {
  traceId: string;
  spanId: string;
  value: number;
  /** Seconds since the epoch. */
  timestamp: number;
}

interface HistogramSeries {
  readonly labels: SeriesLabels;
  /** Per-bucket counts, not cumulative; the last slot is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  exemplars?: (Exemplar | undefined)[];
}

/**
 * A histogram with typed labels and a series cap. Bucket counts are kept per
 * bucket in a typed array and made cumulative only at exposition, so an
 * observation is a short scan plus two additions.
 */
export class GuardedHistogram<
  L extends readonly string[] = readonly string[],
> extends GuardedMetric<HistogramSeries> {
  readonly buckets: readonly number[];
  private readonly bounds: Float64Array;
  private readonly exemplarSource: ExemplarSource | undefined;

  constructor(
    def: MetricDefinition,
    cap: number,
    hooks: GuardHooks,
    exemplarSource?: ExemplarSource,
  ) {
    super(def, cap, hooks);
    this.buckets = def.buckets ?? [];
    this.bounds = Float64Array.from(this.buckets);
    this.exemplarSource = exemplarSource;
    if (def.labelNames.length === 0) this.seriesFor(undefined);
  }

  protected create(labels: SeriesLabels): HistogramSeries {
    return { labels, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  /**
   * Records `value` in the series of `labels`. Inside a sampled span the
   * bucket keeps the trace id as its exemplar (OpenMetrics exposition).
   */
  observe(
    ...args: L extends readonly [] ? [value: number] : [labels: LabelValues<L>, value: number]
  ): void {
    const labels = labelsArg(args);
    const value = valueArg(args);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.invalid();
      return;
    }
    const s = this.seriesFor(labels);
    if (s !== undefined) this.record(s, value);
  }

  /**
   * A recorder for one label combination (see {@link BoundSeries}), or
   * `undefined` when it would go to the overflow series.
   */
  bind(labels: LabelValues<L>): BoundHistogram | undefined {
    const s = this.ownSeries(labels);
    return s === undefined ? undefined : new BoundHistogram(this, s);
  }

  /** @internal Records into a resolved series (bound recorders). */
  record(s: HistogramSeries, value: number): void {
    const bounds = this.bounds;
    const n = bounds.length;
    let i = 0;
    while (i < n && value > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
    if (this.exemplarSource !== undefined) {
      const ctx = this.exemplarSource();
      if (ctx !== undefined) {
        // One exemplar object per bucket, overwritten in place (exposition
        // reads it synchronously): no allocation per observation.
        const ex = (s.exemplars ??= new Array<Exemplar | undefined>(n + 1));
        const e = ex[i];
        const timestamp = Date.now() / 1000;
        if (e === undefined) ex[i] = { traceId: ctx.traceId, spanId: ctx.spanId, value, timestamp };
        else {
          e.traceId = ctx.traceId;
          e.spanId = ctx.spanId;
          e.value = value;
          e.timestamp = timestamp;
        }
      }
    }
  }

  /** Count and sum of one series. */
  read(labels?: LabelValues<L>): { count: number; sum: number; buckets: Record<string, number> } {
    for (const s of this.allSeries()) {
      if (!matches(s.labels, labels)) continue;
      const buckets: Record<string, number> = {};
      let acc = 0;
      this.buckets.forEach((b, i) => {
        acc += s.counts[i]!;
        buckets[String(b)] = acc;
      });
      buckets['+Inf'] = s.count;
      return { count: s.count, sum: s.sum, buckets };
    }
    return { count: 0, sum: 0, buckets: {} };
  }

  /** prom-client compatible snapshot (used by `registry.metrics()`). */
  get(): Promise<PromMetricData> {
    const values: PromMetricValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const s of this.allSeries()) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += s.counts[i]!;
        values.push({
          value: acc,
          labels: { ...s.labels, le: this.buckets[i]! },
          metricName: bucketName,
        });
      }
      values.push({ value: s.count, labels: { ...s.labels, le: '+Inf' }, metricName: bucketName });
      values.push({ value: s.sum, labels: { ...s.labels }, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: { ...s.labels }, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'histogram',
      values,
      aggregator: this.aggregator,
    });
  }
}

/** `observe` of a {@link GuardedHistogram} for one label combination (made by `bind`). */
export class BoundHistogram extends BoundSeries<HistogramSeries, GuardedHistogram> {
  /** @internal */
  constructor(metric: GuardedHistogram, series: HistogramSeries) {
    super(metric, series);
  }

  /** Records `value`; same checks and exemplars as the instrument's `observe`. */
  observe(value: number): void {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.metric.invalid();
      return;
    }
    const s = this.series();
    if (s !== undefined) this.metric.record(s, value);
    else this.metric.observe(this.labels, value);
  }
}
