/**
 * Internal barrel of the SLO room: definitions, generators, probes. The
 * public entry `src/index.ts` picks what `stacklight` exports from here.
 */
export { dashboardJson, dashboardSpecs, generateDashboards, runnableQuery } from './dashboards.js';
export type { DashboardSpec, PanelQuery, PanelSource, PanelSpec } from './dashboards.js';
export { defineSlo } from './define.js';
export { createDigestRecorder } from './digest.js';
export type { DigestOutcome, DigestRecorder, DigestRecorderOptions } from './digest.js';
export { checkSloAgainstCatalog, DEFAULT_DOCS_BASE, generateRules, runbookUrl } from './rules.js';
export type { GeneratedFile, GenerateOptions } from './rules.js';
export { BURN_RATES, BURN_WINDOWS } from './slo-rules.js';
export { RUNBOOKS } from './spec-alerts.js';
export { createProbeRunner, SYNTHETIC_BAGGAGE } from './probes.js';
export type {
  ProbeContext,
  ProbeDefinition,
  ProbeResult,
  ProbeRunner,
  ProbeRunnerOptions,
} from './probes.js';
export { scrapeConfig } from './scrape-config.js';
export { formatSloStatus, queryPrometheus, sloStatus } from './status.js';
export type { SloStatusReport, SloStatusRow } from './status.js';
export type { ScrapeConfigOptions } from './scrape-config.js';
export { specSlos } from './spec.js';
export type { SpecNames } from './spec.js';
export type { LatencySli, Matchers, RatioSli, Sli, SloDefinition, SloObjective } from './types.js';
