import { Registry } from 'prom-client';
import { registerProcessMetrics } from './process-metrics.js';
import { MetricError } from '../errors.js';
import { SDK_VERSION } from '../version.js';
import {
  METRIC_CATALOG,
  METRIC_FAMILIES,
  SELF_METRIC_CATALOG,
  type MetricDefinition,
  type MetricFamily,
} from './catalog.js';
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
  /** Families of `METRIC_FAMILIES` registered from the start (`metrics.families`). @default [] */
  families?: readonly MetricFamily[];
}

/** What `createMetrics` builds. */
export interface MetricsRoom {
  registry: Registry;
  metrics: CatalogMetrics;
  self: SelfMetrics;
  /** Registers one more instrument built from a definition (a service's own metric). */
  define<D extends MetricDefinition>(def: D): InstrumentOf<D>;
  /** Registers the metrics of a family now, when they are not yet (see `METRIC_FAMILIES`). */
  use(family: MetricFamily): void;
}

const rooms = new WeakMap<object, MetricsRoom>();

/**
 * Registers a family of catalog metrics in the registry of `metrics`
 * (`telemetry.metrics`), when not yet: helpers call it once, when they are
 * created, so that their families show from then on, zeros included. A
 * no-op for an object that is not a room's.
 */
export function useMetricFamily(metrics: object, family: MetricFamily): void {
  rooms.get(metrics)?.use(family);
}

/** Names of the catalog metrics: a service's own metric may not take one, registered yet or not. */
const CATALOG_NAMES: ReadonlySet<string> = new Set(
  Object.values(METRIC_CATALOG).map((d) => d.name),
);

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
  registerRaw(registry, metric);
}

function registerRaw(registry: Registry, metric: { name: string }): void {
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
  const build = (def: MetricDefinition): GuardedCounter | GuardedGauge | GuardedHistogram => {
    const problems = checkMetricDefinition(def ?? {}, reserved);
    if (problems.length > 0) {
      const label = typeof def?.name === 'string' ? ` "${def.name}"` : '';
      throw new MetricError(
        `invalid metric definition${label}: ${formatViolations(problems)}`,
        problems.map((p) => p.rule),
      );
    }
    return instrument(def, cap, hooks, setup.exemplarSource);
  };
  const define = <D extends MetricDefinition>(def: D): InstrumentOf<D> => {
    const m = build(def);
    if (CATALOG_NAMES.has(m.name) && registry.getSingleMetric(m.name) === undefined) {
      throw new MetricError(
        `a metric named "${m.name}" is in stacklight's catalog; use telemetry.metrics instead of defining it`,
      );
    }
    register(registry, m);
    return m as InstrumentOf<D>;
  };

  const metrics = {} as Record<string, GuardedCounter | GuardedGauge | GuardedHistogram>;
  for (const [key, def] of Object.entries(METRIC_CATALOG)) metrics[key] = build(def);
  const lazy = new Set<string>(Object.values(METRIC_FAMILIES).flat());
  // The metrics of no family (HTTP) are always there.
  for (const [key, m] of Object.entries(metrics)) if (!lazy.has(key)) register(registry, m);
  const active = new Set<MetricFamily>();
  const use = (family: MetricFamily): void => {
    if (active.has(family)) return;
    active.add(family);
    for (const key of METRIC_FAMILIES[family]) {
      const m = metrics[key]!;
      m.used();
      // Back to what the constructor made (the zero series of an instrument
      // without labels), unless it is the use that registers the family.
      if (m.seriesCount === 0) m.reset();
      // Not `register`: this may run inside a recording call, which never
      // throws (a name taken meanwhile through `telemetry.registry` stays its own).
      if (registry.getSingleMetric(m.name) === undefined) registerRaw(registry, m);
    }
  };
  for (const family of Object.keys(METRIC_FAMILIES) as MetricFamily[]) {
    for (const key of METRIC_FAMILIES[family]) metrics[key]!.deferUntilUsed(() => use(family));
  }
  for (const family of setup.families ?? []) use(family);
  // Registered after the catalog so that the exposition reads the service's
  // metrics first and stacklight's own health last (families registered
  // later, when first used, come after them).
  for (const m of Object.values(self)) register(registry, m);

  selfMetrics.buildInfo.set(
    { version: setup.serviceVersion, sdk_version: SDK_VERSION, node_version: process.version },
    1,
  );

  if (setup.defaultMetrics) registerProcessMetrics(registry);

  const room: MetricsRoom = {
    registry,
    metrics: metrics as unknown as CatalogMetrics,
    self: selfMetrics,
    define,
    use,
  };
  rooms.set(metrics, room);
  return room;
}
