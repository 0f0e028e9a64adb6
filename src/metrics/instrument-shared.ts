/**
 * The part every instrument kind shares (counter.ts, gauge.ts, histogram.ts):
 * typed label objects, the `(labels, value)` argument readers, prom-client's
 * snapshot shape and series matching for `read()`.
 */
import type { SeriesLabels } from './series.js';

/** Label object of an instrument: exactly its declared label names. */
export type LabelValues<L extends readonly string[]> = {
  readonly [K in L[number]]: string | number;
};

/** Shape of prom-client's `metric.get()` result, so its Registry can read our instruments. */
export interface PromMetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** One metric of that result. */
export interface PromMetricData {
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
export function labelsArg(args: readonly unknown[]): Readonly<Record<string, unknown>> | undefined {
  const first = args[0];
  return typeof first === 'object' && first !== null
    ? (first as Readonly<Record<string, unknown>>)
    : undefined;
}

/** The value argument (see {@link labelsArg}). */
export function valueArg(args: readonly unknown[]): unknown {
  const first = args[0];
  return typeof first === 'object' && first !== null ? args[1] : first;
}

/** Whether a series has exactly the label values `want` asks for (`read()`). */
export function matches(
  have: SeriesLabels,
  want: Readonly<Record<string, unknown>> | undefined,
): boolean {
  if (want === undefined)
    return Object.keys(have).length === 0 || Object.values(have).every((v) => v === '');
  for (const k of Object.keys(have)) if (have[k] !== String(want[k] ?? '')) return false;
  return true;
}
