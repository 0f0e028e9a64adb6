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
