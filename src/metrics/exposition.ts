import type { Registry } from 'prom-client';
import { GuardedCounter, GuardedGauge, GuardedHistogram } from './instruments.js';
import type { SeriesLabels } from './series.js';
import { withTimeout } from '../util/async.js';

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Content type of OpenMetrics 1.0. */
export const OPENMETRICS_CONTENT_TYPE =
  'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Exposition format. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Options of {@link renderMetrics}. */
export interface RenderOptions {
  format?: ExpositionFormat;
  /** Labels added to every series (the registry's `service`, `env`, `region`). */
  defaultLabels?: Readonly<Record<string, string>>;
  /** Upper bound for each scrape-time collector, in ms. @default 2000 */
  collectTimeoutMs?: number;
  /** Called when a collector fails or times out; the scrape goes on without it. */
  onCollectError?: (metric: string, err: unknown) => void;
}

/**
 * Picks the exposition format from an HTTP `Accept` header: OpenMetrics when
 * the client lists `application/openmetrics-text` with a quality at least
 * that of `text/plain`, Prometheus text otherwise.
 */
export function negotiateFormat(accept: string | string[] | undefined | null): ExpositionFormat {
  const header = Array.isArray(accept) ? accept.join(',') : accept;
  if (!header || !header.includes('openmetrics')) return 'prometheus';
  let om = -1;
  let text = -1;
  for (const part of header.split(',')) {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    let q = 1;
    for (const p of params) if (p.startsWith('q=')) q = Number(p.slice(2)) || 0;
    if (type === 'application/openmetrics-text') om = Math.max(om, q);
    else if (type === 'text/plain' || type === '*/*' || type === 'text/*') text = Math.max(text, q);
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus';
}

/** The content type to send with a format. */
export function contentTypeOf(format: ExpositionFormat): string {
  return format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE;
}

function escapeLabel(v: string): string {
  return /[\\"\n]/.test(v)
    ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : v;
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelPairs(labels: Readonly<Record<string, string | number>>, skip?: string): string {
  let out = '';
  for (const k in labels) {
    if (k === skip) continue;
    const v = labels[k];
    out += `${out ? ',' : ''}${k}="${escapeLabel(String(v))}"`;
  }
  return out;
}

function braces(...parts: string[]): string {
  const inner = parts.filter((p) => p !== '').join(',');
  return inner ? `{${inner}}` : '';
}

/** Family name and header lines for one metric. */
function header(
  name: string,
  type: string,
  help: string,
  om: boolean,
): { family: string; text: string } {
  const family = om && type === 'counter' && name.endsWith('_total') ? name.slice(0, -6) : name;
  const t = om && type === 'untyped' ? 'unknown' : type;
  return { family, text: `# HELP ${family} ${escapeHelp(help)}\n# TYPE ${family} ${t}\n` };
}

function renderGuarded(
  m: GuardedCounter | GuardedGauge | GuardedHistogram,
  defaults: string,
  om: boolean,
): string {
  const { family, text } = header(m.name, m.type, m.help, om);
  let out = text;
  if (m instanceof GuardedHistogram) {
    const les = m.buckets.map((b) => `le="${num(b)}"`);
    les.push('le="+Inf"');
    for (const s of m.allSeries()) {
      const own = labelPairs(s.labels);
      let acc = 0;
      for (let i = 0; i < les.length; i++) {
        acc += s.counts[i]!;
        out += `${m.name}_bucket${braces(own, defaults, les[i]!)} ${num(acc)}`;
        const ex = om ? s.exemplars?.[i] : undefined;
        if (ex !== undefined) {
          out += ` # {trace_id="${ex.traceId}",span_id="${ex.spanId}"} ${num(ex.value)} ${ex.timestamp.toFixed(3)}`;
        }
        out += '\n';
      }
      const lbl = braces(own, defaults);
      out += `${m.name}_sum${lbl} ${num(s.sum)}\n${m.name}_count${lbl} ${num(s.count)}\n`;
    }
    return out;
  }
  const sample = om && m.type === 'counter' ? `${family}_total` : m.name;
  for (const s of (m as GuardedCounter | GuardedGauge).allSeries() as Iterable<{
    labels: SeriesLabels;
    value: number;
  }>) {
    out += `${sample}${braces(labelPairs(s.labels), defaults)} ${num(s.value)}\n`;
  }
  return out;
}

interface GenericValue {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
  exemplar?: {
    labelSet: Record<string, string | number>;
    value: number;
    timestamp?: number;
  } | null;
}

interface GenericMetric {
  name: string;
  help: string;
  type: string;
  values?: GenericValue[];
}

function renderGeneric(
  data: GenericMetric,
  defaultLabels: Readonly<Record<string, string>>,
  om: boolean,
): string {
  const { family, text } = header(data.name, data.type, data.help, om);
  let out = text;
  for (const v of data.values ?? []) {
    let name = v.metricName ?? data.name;
    if (om && data.type === 'counter' && v.metricName === undefined) name = `${family}_total`;
    const labels: Record<string, string | number> = { ...v.labels };
    for (const k in defaultLabels) if (!(k in labels)) labels[k] = defaultLabels[k]!;
    // `le` and `quantile` go last, as Prometheus clients conventionally write them.
    const le = labels.le ?? labels.quantile;
    const leKey = 'le' in labels ? 'le' : 'quantile' in labels ? 'quantile' : undefined;
    const own = labelPairs(labels, leKey);
    const tail =
      leKey !== undefined ? `${leKey}="${typeof le === 'number' ? num(le) : String(le)}"` : '';
    out += `${name}${braces(own, tail)} ${num(v.value)}`;
    if (om && v.exemplar) {
      out += ` # {${labelPairs(v.exemplar.labelSet)}} ${num(v.exemplar.value)}${v.exemplar.timestamp !== undefined ? ` ${v.exemplar.timestamp}` : ''}`;
    }
    out += '\n';
  }
  return out;
}

/**
 * Renders every metric of `registry` in the Prometheus text format or in
 * OpenMetrics 1.0. stacklight's own instruments are written directly from
 * their storage; any other prom-client metric registered in the same registry
 * (default process metrics, a service's own) is read through its `get()`.
 *
 * Unlike prom-client's own OpenMetrics mode, one registry serves both formats
 * and nothing is renamed in place. A collector that fails or exceeds
 * `collectTimeoutMs` leaves its metric out of this scrape and is reported.
 */
export async function renderMetrics(
  registry: Registry,
  options: RenderOptions = {},
): Promise<string> {
  const om = options.format === 'openmetrics';
  const defaultLabels = options.defaultLabels ?? {};
  const defaults = labelPairs(defaultLabels);
  const timeout = options.collectTimeoutMs ?? 2000;
  const metrics = registry.getMetricsAsArray() as unknown[];
  // Phase 1, asynchronous: scrape-time collectors and other libraries'
  // get(), each bounded by the timeout. A failed or slow collector is
  // reported; its gauge still shows what the collector last set (the
  // collector owns staleness, e.g. by removing series it could not refresh).
  const generic = await Promise.all(
    metrics.map(async (m): Promise<GenericMetric | undefined> => {
      const name = (m as { name?: string }).name ?? 'unknown';
      try {
        if (m instanceof GuardedGauge) {
          await withTimeout(
            m.collect((err) => options.onCollectError?.(m.name, err)),
            timeout,
            'collector',
          );
          return undefined;
        }
        if (m instanceof GuardedCounter || m instanceof GuardedHistogram) return undefined;
        return await withTimeout(
          Promise.resolve((m as { get(): Promise<GenericMetric> }).get()),
          timeout,
          'collector',
        );
      } catch (err) {
        options.onCollectError?.(name, err);
        return undefined;
      }
    }),
  );
  // Phase 2, synchronous: render everything after every collector ran, so
  // that what the collectors counted (e.g. a failed queue read in the
  // self-metrics) is in this same scrape.
  const parts = metrics.map((m, i) => {
    if (m instanceof GuardedCounter || m instanceof GuardedGauge || m instanceof GuardedHistogram) {
      return renderGuarded(m, defaults, om);
    }
    const data = generic[i];
    return data === undefined ? '' : renderGeneric(data, defaultLabels, om);
  });
  const body = parts.filter((p) => p !== '').join('');
  return om ? `${body}# EOF\n` : body;
}
