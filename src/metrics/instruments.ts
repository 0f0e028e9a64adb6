/**
 * stacklight's instruments, one file per kind: `counter.ts`, `gauge.ts`,
 * `histogram.ts` (prom-client's summary has no counterpart: the catalog
 * refuses it), and what they share in `instrument-shared.ts`.
 */
export type { LabelValues } from './instrument-shared.js';
export { BoundCounter, GuardedCounter } from './counter.js';
export { GuardedGauge, type GaugeCollector } from './gauge.js';
export {
  BoundHistogram,
  GuardedHistogram,
  type Exemplar,
  type ExemplarSource,
} from './histogram.js';
