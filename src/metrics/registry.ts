import { Registry } from 'prom-client';
import { registerProcessMetrics } from './process-metrics.js';
import { MetricError } from '../errors.js';
import { SDK_VERSION } from '../version.js';
import { METRIC_CATALOG, SELF_METRIC_CATALOG, type MetricDefinition } from './catalog.js';
import {
  GuardedCounter,
  GuardedGauge,
  GuardedHistogram,
  type ExemplarSource,
} from './instruments.js';
import { checkMetricDefinition, formatViolations } from './rules.js';
import type { GuardHooks } from './series.js';

/** The instrument type of one catalog entry, with its label names as types. */
export type InstrumentOf<D extends MetricDefinition> = D['type'] extends 'counter'
  ? GuardedCounter<D['labelNames']>
  : D['type'] extends 'gauge'
    ? GuardedGauge<D['labelNames']>
    : GuardedHistogram<D['labelNames']>;

/** Instruments for every entry of a catalog. */
export type InstrumentsOf<C extends Record<string, MetricDefinition>> = {
  readonly [K in keyof C]: InstrumentOf<C[K]>;
};

/** `telemetry.metrics`: the spec's metrics, typed by the catalog. */
export type CatalogMetrics = InstrumentsOf<typeof METRIC_CATALOG>;
/** stacklight's own health metrics. */
export type SelfMetrics = InstrumentsOf<typeof SELF_METRIC_CATALOG>;

/** Settings the metrics room needs, already validated by `init()`. */
export interface MetricsSetup {
  defaultLabels: Readonly<Record<string, string>>;
  maxSeriesPerMetric: number;
  defaultMetrics: boolean;
  serviceVersion: string;
  exemplarSource?: ExemplarSource;
  /**
   * Told (with a message naming labels, never values) when an observation is
   * dropped because its label object does not fit the metric's labels; it is
   * also counted in `stacklight_internal_errors_total{component="metric_labels"}`.
   */
  onLabelError?: (metric: string, message: string) => void;
  /**
   * The scrubbing engine's string scrubber: label values it changes are
   * replaced by `[REDACTED]` when their series is created, and counted in
   * `stacklight_label_values_redacted_total`.
   */
  scrubLabel?: (value: string) => string;
}

/** What `createMetrics` builds. */
export interface MetricsRoom {
  registry: Registry;
  metrics: CatalogMetrics;
  self: SelfMetrics;
  /** Registers one more instrument built from a definition (a service's own metric). */
  define<D extends MetricDefinition>(def: D): InstrumentOf<D>;
}

function instrument(
  def: MetricDefinition,
  cap: number,
  hooks: GuardHooks,
  exemplarSource: ExemplarSource | undefined,
): GuardedCounter | GuardedGauge | GuardedHistogram {
  switch (def.type) {
    case 'counter':
      return new GuardedCounter(def, cap, hooks);
    case 'gauge':
      return new GuardedGauge(def, cap, hooks);
    case 'histogram':
      return new GuardedHistogram(def, cap, hooks, exemplarSource);
  }
}

function register(registry: Registry, metric: { name: string }): void {
  if (registry.getSingleMetric(metric.name) !== undefined) {
    throw new MetricError(`a metric named "${metric.name}" is already registered in this registry`);
  }
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}

/**
 * Builds the registry (a fresh prom-client `Registry`, never the global one),
 * the catalog instruments, the self-metrics, the build-info gauge and, when
 * enabled, prom-client's Node.js process metrics.
 */
export function createMetrics(setup: MetricsSetup): MetricsRoom {
  const registry = new Registry();
  registry.setDefaultLabels({ ...setup.defaultLabels });
  const cap = setup.maxSeriesPerMetric;

  // Self-metrics have small fixed label sets; they report into themselves
  // through no-op hooks so that a fault can never recurse.
  const quiet: GuardHooks = {
    onOverflow: () => undefined,
    onInvalid: () => undefined,
    onLabelError: () => undefined,
  };
  const self = {} as Record<string, GuardedCounter | GuardedGauge | GuardedHistogram>;
  for (const [key, def] of Object.entries(SELF_METRIC_CATALOG)) {
    self[key] = instrument(def, cap, quiet, undefined);
  }
  const selfMetrics = self as unknown as SelfMetrics;

  const hooks: GuardHooks = {
    onOverflow: (metric) => selfMetrics.seriesOverflowTotal.inc({ metric }),
    onInvalid: (metric) => selfMetrics.invalidObservationsTotal.inc({ metric }),
    onLabelError: (metric, problem) => {
      selfMetrics.internalErrorsTotal.inc({ component: 'metric_labels' });
      setup.onLabelError?.(
        metric,
        `metric "${metric}" was given labels that do not fit its definition: ${problem}; ` +
          'the observation was dropped (counted in stacklight_internal_errors_total{component="metric_labels"})',
      );
    },
    ...(setup.scrubLabel === undefined
      ? {}
      : {
          scrubLabel: setup.scrubLabel,
          onRedacted: (metric: string) => selfMetrics.labelValuesRedactedTotal.inc({ metric }),
        }),
  };

  // `service` is reserved by the rules themselves; the other default labels
  // (`env`, `region` when enabled) are reserved for this registry.
  const reserved = Object.keys(setup.defaultLabels).filter((l) => l !== 'service');
  const define = <D extends MetricDefinition>(def: D): InstrumentOf<D> => {
    const problems = checkMetricDefinition(def ?? {}, reserved);
    if (problems.length > 0) {
      const label = typeof def?.name === 'string' ? ` "${def.name}"` : '';
      throw new MetricError(
        `invalid metric definition${label}: ${formatViolations(problems)}`,
        problems.map((p) => p.rule),
      );
    }
    const m = instrument(def, cap, hooks, setup.exemplarSource);
    register(registry, m);
    return m as InstrumentOf<D>;
  };

  const metrics = {} as Record<string, unknown>;
  for (const [key, def] of Object.entries(METRIC_CATALOG)) metrics[key] = define(def);
  // Registered after the catalog so that the exposition reads the service's
  // metrics first and stacklight's own health last.
  for (const m of Object.values(self)) register(registry, m);

  selfMetrics.buildInfo.set(
    { version: setup.serviceVersion, sdk_version: SDK_VERSION, node_version: process.version },
    1,
  );

  if (setup.defaultMetrics) registerProcessMetrics(registry);

  return { registry, metrics: metrics as CatalogMetrics, self: selfMetrics, define };
}
