import { pascal } from './define.js';
import { quote } from './spec.js';
import type { SloDefinition, SloObjective } from './types.js';
import { COMMENT, type YamlMap } from './yaml.js';

/** Windows of the recorded error ratios (those the burn-rate alerts read). */
export const BURN_WINDOWS = ['5m', '30m', '1h', '6h', '3d'] as const;

/**
 * The multi-window multi-burn-rate pairs (Google SRE workbook, ch. 5): a
 * long window that says the budget is really burning and a short one that
 * says it still is, so the alert resets soon after the burn stops.
 */
export const BURN_RATES = [
  { factor: 14.4, long: '1h', short: '5m', severity: 'page' },
  { factor: 6, long: '6h', short: '30m', severity: 'page' },
  { factor: 1, long: '3d', short: '6h', severity: 'ticket' },
] as const;

/** Default of `minEventsPerHour`. */
export const DEFAULT_MIN_EVENTS_PER_HOUR = 100;

const HOURS: Record<string, number> = { '1h': 1, '6h': 6, '3d': 72 };
const SECONDS: Record<string, number> = { '1h': 3600, '6h': 21600, '3d': 259200 };

/** A number as PromQL writes it, without binary floating-point noise. */
export function num(x: number): string {
  return String(Number(x.toPrecision(12)));
}

/** `metric{a,b}` with empty matchers dropped. */
export function selector(metric: string, ...matchers: readonly string[]): string {
  const m = matchers.filter((s) => s !== '').join(',');
  return m === '' ? metric : `${metric}{${m}}`;
}

/** PromQL of an objective's error ratio over `w` (no result when there were no events). */
export function errorRatioExpr(o: SloObjective, w: string): string {
  const sli = o.sli;
  if (sli.kind === 'latency') {
    const le = `le=${quote(String(sli.threshold))}`;
    return (
      `1 - (sum(rate(${selector(`${sli.metric}_bucket`, sli.matchers, le)}[${w}]))` +
      ` / (sum(rate(${selector(`${sli.metric}_count`, sli.matchers)}[${w}])) > 0))`
    );
  }
  const total = `sum(rate(${selector(sli.metric, sli.matchers)}[${w}]))`;
  if (sli.goodMetric !== undefined) {
    const good = `sum(rate(${selector(sli.goodMetric, sli.matchers, sli.badMatchers)}[${w}]))`;
    return `clamp_min(1 - ((${good} or vector(0)) / (${total} > 0)), 0)`;
  }
  const bad = `sum(rate(${selector(sli.badMetric ?? sli.metric, sli.matchers, sli.badMatchers)}[${w}]))`;
  return `(${bad} or vector(0)) / (${total} > 0)`;
}

/** PromQL of an objective's event rate (per second) over `w`. */
export function eventRateExpr(o: SloObjective, w: string): string {
  const sli = o.sli;
  const metric = sli.kind === 'latency' ? `${sli.metric}_count` : sli.metric;
  return `sum(rate(${selector(metric, sli.matchers)}[${w}]))`;
}

/** Name of an objective's paging alert. */
export function alertName(slo: SloDefinition, o: SloObjective): string {
  return o.alert ?? `${pascal(slo.name, o.name)}Burn`;
}

function labelsOf(slo: SloDefinition, o: SloObjective): string {
  return `slo=${quote(slo.name)},objective=${quote(o.name)}`;
}

/** The recording-rule group of one SLO. */
export function sloRecordingGroup(slo: SloDefinition): YamlMap {
  const rules: YamlMap[] = [];
  for (const o of slo.objectives) {
    const labels = { slo: slo.name, objective: o.name };
    if (o.burnRate === false) {
      rules.push({
        [COMMENT]: `${slo.title}, ${o.description}: the error ratio over the whole ${slo.window} window.`,
        record: 'slo:sli_error:ratio_window',
        expr: errorRatioExpr(o, slo.window),
        labels,
      });
    } else {
      for (const w of BURN_WINDOWS)
        rules.push({
          ...(w === '5m' ? { [COMMENT]: `${slo.title}, ${o.description}.` } : {}),
          record: `slo:sli_error:ratio_rate${w}`,
          expr: errorRatioExpr(o, w),
          labels,
        });
      for (const w of ['1h', '6h', '3d'])
        rules.push({ record: `slo:sli_events:rate${w}`, expr: eventRateExpr(o, w), labels });
      rules.push({
        [COMMENT]: `Over the ${slo.window} window: the mean of the 5m ratios (cheap to evaluate; not traffic-weighted).`,
        record: 'slo:sli_error:ratio_window',
        expr: `avg_over_time(slo:sli_error:ratio_rate5m{${labelsOf(slo, o)}}[${slo.window}])`,
        labels,
      });
    }
    rules.push({
      record: 'slo:error_budget:remaining',
      expr: `1 - slo:sli_error:ratio_window{${labelsOf(slo, o)}} / ${num(1 - o.target)}`,
      labels,
    });
  }
  return { name: `stacklight-slo-${slo.name}-recording`, rules };
}

/** The alerting group of one SLO: burn-rate page and ticket alerts (or one window alert). */
export function sloAlertGroup(slo: SloDefinition, runbookUrl: string): YamlMap {
  const rules: YamlMap[] = [];
  for (const o of slo.objectives) {
    const name = alertName(slo, o);
    const budget = 1 - o.target;
    const sel = labelsOf(slo, o);
    const common = {
      runbook_url: runbookUrl,
      ...(slo.dashboard === undefined
        ? {}
        : { dashboard: `${slo.dashboard.uid} / ${slo.dashboard.panel}` }),
    };
    if (o.burnRate === false) {
      rules.push({
        [COMMENT]: `${slo.title}: ${o.description}. A batch SLI, so one alert on the whole window\n(burn rates over minutes would see a run half done).`,
        alert: name,
        expr: `slo:sli_error:ratio_window{${sel}} > ${num(budget)}`,
        for: '15m',
        labels: { severity: 'ticket', slo: slo.name, objective: o.name },
        annotations: {
          summary: `${slo.title}: error budget of "${o.description}" exhausted`,
          description: `More than ${num(budget * 100)} % of events missed the objective over ${slo.window}: the error budget is spent.`,
          ...common,
        },
      });
      continue;
    }
    const minPerHour = o.minEventsPerHour ?? DEFAULT_MIN_EVENTS_PER_HOUR;
    const clause = (factor: number, long: string, short: string): string | undefined => {
      // A factor whose threshold is ≥ 100 % errors can never fire (a median
      // objective has a 50 % budget): such a pair is left out.
      if (factor * budget >= 1) return undefined;
      const t = num(factor * budget);
      return (
        `(\n  slo:sli_error:ratio_rate${long}{${sel}} > ${t}\n` +
        `  and slo:sli_error:ratio_rate${short}{${sel}} > ${t}\n` +
        `  and slo:sli_events:rate${long}{${sel}} * ${SECONDS[long]} >= ${num(minPerHour * HOURS[long]!)}\n)`
      );
    };
    const page = BURN_RATES.filter((b) => b.severity === 'page')
      .map((b) => clause(b.factor, b.long, b.short))
      .filter((c): c is string => c !== undefined);
    const ticket = BURN_RATES.filter((b) => b.severity === 'ticket')
      .map((b) => clause(b.factor, b.long, b.short))
      .filter((c): c is string => c !== undefined);
    if (page.length > 0)
      rules.push({
        [COMMENT]: `${slo.title}: ${o.description}. Pages at a 14.4× burn over 1h and 5m or 6× over 6h and 30m,\nwith at least ${minPerHour} events per hour of the long window.`,
        alert: name,
        expr: page.join('\nor\n'),
        for: '2m',
        labels: { severity: 'page', slo: slo.name, objective: o.name },
        annotations: {
          summary: `${slo.title}: error budget of "${o.description}" burning fast`,
          description: `Errors at ${num(6)}× to ${num(14.4)}× the rate the ${slo.window} budget (${num(budget * 100)} % of events) allows: at this rate it is gone in days.`,
          ...common,
        },
      });
    if (ticket.length > 0)
      rules.push({
        [COMMENT]: `${slo.title}: ${o.description}. A ticket at a 1× burn over 3d and 6h.`,
        alert: `${name}Ticket`,
        expr: ticket.join('\nor\n'),
        for: '15m',
        labels: { severity: 'ticket', slo: slo.name, objective: o.name },
        annotations: {
          summary: `${slo.title}: error budget of "${o.description}" burning`,
          description: `Errors above the rate the ${slo.window} budget (${num(budget * 100)} % of events) allows, for 3 days: the budget will not last the window.`,
          ...common,
        },
      });
  }
  return { name: `stacklight-slo-${slo.name}-alerts`, rules };
}
