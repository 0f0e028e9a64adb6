import { specSlos } from './spec.js';
import type { SloDefinition } from './types.js';

/** One objective's state, as `slo status` prints it. */
export interface SloStatusRow {
  readonly slo: string;
  readonly objective: string;
  readonly target: number;
  /** Share of good events over the window, or `undefined` without data. */
  readonly sli: number | undefined;
  /** Error budget left (1 = untouched, ≤ 0 = exhausted), or `undefined` without data. */
  readonly budgetRemaining: number | undefined;
  readonly state: 'ok' | 'exhausted' | 'no data';
}

/** What {@link sloStatus} found. */
export interface SloStatusReport {
  readonly rows: readonly SloStatusRow[];
  /** Probes whose last run failed (`probe_success == 0`). */
  readonly failingProbes: readonly string[];
  /** Probes seen at all. */
  readonly probes: readonly string[];
  /** Whether a deploy may go on: no budget exhausted and no probe failing. */
  readonly pass: boolean;
}

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** Runs an instant query against a Prometheus HTTP API. */
export async function queryPrometheus(
  base: string,
  query: string,
  fetchImpl: typeof fetch = fetch,
): Promise<VectorSample[]> {
  const url = new URL('api/v1/query', base.endsWith('/') ? base : `${base}/`);
  url.searchParams.set('query', query);
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: VectorSample[] };
  };
  if (body.status !== 'success' || body.data === undefined)
    throw new Error(`Prometheus refused ${query}: ${body.error ?? res.status}`);
  if (body.data.resultType !== 'vector')
    throw new Error(`Prometheus answered ${query} with a ${body.data.resultType}`);
  return body.data.result;
}

/**
 * Asks a Prometheus that loads the `stacklight rules` output for each SLO
 * objective's SLI over its window and its remaining error budget, and for
 * failing probes. The deploy gate of the spec's pre-deploy checklist
 * ("SLO probes green? Error budget not exhausted?").
 */
export async function sloStatus(
  prometheus: string,
  slos: readonly SloDefinition[] = specSlos(),
  fetchImpl: typeof fetch = fetch,
): Promise<SloStatusReport> {
  const [ratios, budgets, probes] = await Promise.all([
    queryPrometheus(prometheus, 'slo:sli_error:ratio_window', fetchImpl),
    queryPrometheus(prometheus, 'slo:error_budget:remaining', fetchImpl),
    queryPrometheus(prometheus, 'min by (probe) (probe_success)', fetchImpl),
  ]);
  const find = (samples: VectorSample[], slo: string, objective: string): number | undefined => {
    const s = samples.find((x) => x.metric['slo'] === slo && x.metric['objective'] === objective);
    const v = s === undefined ? NaN : Number(s.value[1]);
    return Number.isFinite(v) ? v : undefined;
  };
  const rows: SloStatusRow[] = [];
  for (const slo of slos)
    for (const o of slo.objectives) {
      const ratio = find(ratios, slo.name, o.name);
      const budget = find(budgets, slo.name, o.name);
      rows.push({
        slo: slo.name,
        objective: o.name,
        target: o.target,
        sli: ratio === undefined ? undefined : 1 - ratio,
        budgetRemaining: budget,
        state: budget === undefined ? 'no data' : budget <= 0 ? 'exhausted' : 'ok',
      });
    }
  const failingProbes = probes
    .filter((p) => Number(p.value[1]) === 0)
    .map((p) => p.metric['probe'] ?? '');
  return {
    rows,
    failingProbes,
    probes: probes.map((p) => p.metric['probe'] ?? ''),
    pass: rows.every((r) => r.state !== 'exhausted') && failingProbes.length === 0,
  };
}

function pct(x: number | undefined, digits: number): string {
  return x === undefined ? '-' : `${(x * 100).toFixed(digits)}%`;
}

/** The report as a plain-text table. */
export function formatSloStatus(report: SloStatusReport): string {
  const header = ['SLO', 'OBJECTIVE', 'TARGET', 'SLI', 'BUDGET LEFT', 'STATE'];
  const lines = report.rows.map((r) => [
    r.slo,
    r.objective,
    pct(r.target, 2),
    pct(r.sli, 3),
    pct(r.budgetRemaining, 1),
    r.state,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [row(header), ...lines.map(row)];
  out.push('');
  out.push(
    report.probes.length === 0
      ? 'probes: none reporting'
      : report.failingProbes.length === 0
        ? `probes: ${report.probes.length} passing`
        : `probes failing: ${report.failingProbes.join(', ')}`,
  );
  out.push(report.pass ? 'PASS' : 'FAIL: an error budget is exhausted or a probe fails');
  return out.join('\n') + '\n';
}
