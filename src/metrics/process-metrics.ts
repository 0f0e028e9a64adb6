import { collectDefaultMetrics, Registry, type Metric } from 'prom-client';

/**
 * prom-client's Node.js process metrics, made once per process.
 *
 * `collectDefaultMetrics` starts an event-loop delay monitor and a GC
 * performance observer that it never stops and offers no way to stop; each
 * call starts new ones. One set of collectors serves every registry
 * stacklight builds instead, so that init()/shutdown() cycles (tests, hot
 * reload) do not pile up monitors: the process metrics describe the process,
 * not an instance, and their series get each registry's default labels when
 * that registry renders them.
 */
let shared: Metric[] | undefined;

/** Registers the process metrics in `registry` (creating the collectors on first use). */
export function registerProcessMetrics(registry: Registry): void {
  if (shared === undefined) {
    const holder = new Registry();
    collectDefaultMetrics({ register: holder });
    shared = holder.getMetricsAsArray() as unknown as Metric[];
  }
  for (const metric of shared) registry.registerMetric(metric);
}
