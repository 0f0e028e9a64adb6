import type { MetricDefinition } from './catalog.js';
import {
  labelsArg,
  matches,
  valueArg,
  type LabelValues,
  type PromMetricData,
  type PromMetricValue,
} from './instrument-shared.js';
import { GuardedMetric, type GuardHooks, type SeriesLabels } from './series.js';

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
