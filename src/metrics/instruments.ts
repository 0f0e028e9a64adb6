import type { MetricDefinition } from './catalog.js';
import { BoundSeries, GuardedMetric, type GuardHooks, type SeriesLabels } from './series.js';

/** Label object of an instrument: exactly its declared label names. */
export type LabelValues<L extends readonly string[]> = {
  readonly [K in L[number]]: string | number;
};

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

/** Shape of prom-client's `metric.get()` result, so its Registry can read our instruments. */
interface PromMetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface PromMetricData {
  name: string;
  help: string;
  type: string;
  values: PromMetricValue[];
  aggregator: string;
}

/**
 * Instruments take `(labels, value)`, or `(value)` when they have no labels.
 * Two tiny readers rather than one that returns a pair: no allocation per
 * observation, and V8 inlines them.
 */
function labelsArg(args: readonly unknown[]): Readonly<Record<string, unknown>> | undefined {
  const first = args[0];
  return typeof first === 'object' && first !== null
    ? (first as Readonly<Record<string, unknown>>)
    : undefined;
}

function valueArg(args: readonly unknown[]): unknown {
  const first = args[0];
  return typeof first === 'object' && first !== null ? args[1] : first;
}

// ---------------------------------------------------------------- counter

interface CounterSeries {
  readonly labels: SeriesLabels;
  value: number;
}

/**
 * A counter with typed labels and a series cap. Invalid increments (NaN,
 * infinite, negative) are dropped and counted instead of thrown.
 */
export class GuardedCounter<
  L extends readonly string[] = readonly string[],
> extends GuardedMetric<CounterSeries> {
  constructor(def: MetricDefinition, cap: number, hooks: GuardHooks) {
    super(def, cap, hooks);
    if (def.labelNames.length === 0) this.seriesFor(undefined);
  }

  protected create(labels: SeriesLabels): CounterSeries {
    return { labels, value: 0 };
  }

  /** Adds `value` (default 1) to the series of `labels`. */
  inc(
    ...args: L extends readonly [] ? [value?: number] : [labels: LabelValues<L>, value?: number]
  ): void {
    const labels = labelsArg(args);
    const value = valueArg(args);
    const v = value === undefined ? 1 : (value as number);
    if (typeof v !== 'number' || !(v >= 0) || v === Infinity) {
      this.invalid();
      return;
    }
    const s = this.seriesFor(labels);
    if (s !== undefined) s.value += v;
  }

  /**
   * A recorder for one label combination (see {@link BoundSeries}), or
   * `undefined` when it would go to the overflow series.
   */
  bind(labels: LabelValues<L>): BoundCounter | undefined {
    const s = this.ownSeries(labels);
    return s === undefined ? undefined : new BoundCounter(this, s);
  }

  /** Current value of one series (0 when it has not been touched). */
  read(labels?: LabelValues<L>): number {
    for (const s of this.allSeries()) if (matches(s.labels, labels)) return s.value;
    return 0;
  }

  override reset(): void {
    super.reset();
    if (this.labelNames.length === 0) this.seriesFor(undefined);
  }

  /** prom-client compatible snapshot (used by `registry.metrics()`). */
  get(): Promise<PromMetricData> {
    const values: PromMetricValue[] = [];
    for (const s of this.allSeries()) values.push({ value: s.value, labels: { ...s.labels } });
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'counter',
      values,
      aggregator: this.aggregator,
    });
  }
}

// ---------------------------------------------------------------- gauge

interface GaugeSeries {
  readonly labels: SeriesLabels;
  value: number;
}

/** Collector run before each scrape of a gauge; may be async. */
export type GaugeCollector = () => void | Promise<void>;

/** A gauge with typed labels, a series cap and optional scrape-time collectors. */
export class GuardedGauge<
  L extends readonly string[] = readonly string[],
> extends GuardedMetric<GaugeSeries> {
  private readonly collectors = new Set<GaugeCollector>();

  constructor(def: MetricDefinition, cap: number, hooks: GuardHooks) {
    super(def, cap, hooks);
    if (def.labelNames.length === 0) this.seriesFor(undefined);
  }

  protected create(labels: SeriesLabels): GaugeSeries {
    return { labels, value: 0 };
  }

  private apply(args: unknown[], op: 'set' | 'add', sign: number): void {
    const labels = labelsArg(args);
    const value = valueArg(args);
    const v = value === undefined && op === 'add' ? 1 : value;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      this.invalid();
      return;
    }
    const s = this.seriesFor(labels);
    if (s === undefined) return;
    if (op === 'set') s.value = v;
    else s.value += sign * v;
  }

  /** Sets the series of `labels` to `value`. */
  set(
    ...args: L extends readonly [] ? [value: number] : [labels: LabelValues<L>, value: number]
  ): void {
    this.apply(args, 'set', 1);
  }

  /** Adds `value` (default 1). */
  inc(
    ...args: L extends readonly [] ? [value?: number] : [labels: LabelValues<L>, value?: number]
  ): void {
    this.apply(args, 'add', 1);
  }

  /** Subtracts `value` (default 1). */
  dec(
    ...args: L extends readonly [] ? [value?: number] : [labels: LabelValues<L>, value?: number]
  ): void {
    this.apply(args, 'add', -1);
  }

  /** Current value of one series (0 when it has not been touched). */
  read(labels?: LabelValues<L>): number {
    for (const s of this.allSeries()) if (matches(s.labels, labels)) return s.value;
    return 0;
  }

  /**
   * Registers a function run before each scrape (queue depth, pool sizes).
   * Returns a function that unregisters it.
   */
  addCollector(fn: GaugeCollector): () => void {
    this.used();
    this.collectors.add(fn);
    return () => this.collectors.delete(fn);
  }

  /** Runs the collectors; a failing collector is reported, never thrown. */
  async collect(onError: (err: unknown) => void): Promise<void> {
    if (this.collectors.size === 0) return;
    await Promise.all(
      [...this.collectors].map(async (fn) => {
        try {
          await fn();
        } catch (err) {
          onError(err);
        }
      }),
    );
  }

  override reset(): void {
    super.reset();
    if (this.labelNames.length === 0) this.seriesFor(undefined);
  }

  /** prom-client compatible snapshot (used by `registry.metrics()`). */
  async get(): Promise<PromMetricData> {
    await this.collect(() => undefined);
    const values: PromMetricValue[] = [];
    for (const s of this.allSeries()) values.push({ value: s.value, labels: { ...s.labels } });
    return { name: this.name, help: this.help, type: 'gauge', values, aggregator: this.aggregator };
  }
}

// ---------------------------------------------------------------- histogram

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

/** `inc` of a {@link GuardedCounter} for one label combination (made by `bind`). */
export class BoundCounter extends BoundSeries<CounterSeries, GuardedCounter> {
  /** @internal */
  constructor(metric: GuardedCounter, series: CounterSeries) {
    super(metric, series);
  }

  /** Adds `value` (default 1); same checks as the instrument's `inc`. */
  inc(value = 1): void {
    if (typeof value !== 'number' || !(value >= 0) || value === Infinity) {
      this.metric.invalid();
      return;
    }
    const s = this.series();
    if (s !== undefined) s.value += value;
    else this.metric.inc(this.labels, value);
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

function matches(have: SeriesLabels, want: Readonly<Record<string, unknown>> | undefined): boolean {
  if (want === undefined)
    return Object.keys(have).length === 0 || Object.values(have).every((v) => v === '');
  for (const k of Object.keys(have)) if (have[k] !== String(want[k] ?? '')) return false;
  return true;
}
