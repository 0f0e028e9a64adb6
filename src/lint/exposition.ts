/**
 * A reader of the Prometheus text format (0.0.4) and OpenMetrics 1.0, and
 * the checks `stacklight check-metrics` runs on what it reads: the naming
 * rules of `metrics/rules.ts`, conformance with stacklight's catalog, the
 * `service` label, and a cardinality report.
 */
import { allMetricDefinitions, type MetricDefinition } from '../metrics/catalog.js';
import {
  checkLabelName,
  checkMetricName,
  isHighCardinalityLabel,
  type MetricKind,
} from '../metrics/rules.js';

/** One sample line. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly line: number;
}

/** One metric family: its `# TYPE`/`# HELP` and its samples. */
export interface Family {
  /** The family name as written in `# TYPE` (OpenMetrics counters: without `_total`). */
  readonly name: string;
  type: string;
  help: string | undefined;
  readonly samples: Sample[];
}

/** What {@link parseExposition} returns. */
export interface ParsedExposition {
  readonly format: 'prometheus' | 'openmetrics';
  readonly families: Family[];
  /** Lines that could not be read (the whole scrape fails in Prometheus then). */
  readonly errors: { line: number; message: string }[];
}

const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', '_created'],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
  summary: ['_sum', '_count', '_created'],
  info: ['_info'],
};

/** Reads an exposition; never throws (unreadable lines are listed in `errors`). */
export function parseExposition(text: string): ParsedExposition {
  const families: Family[] = [];
  const byName = new Map<string, Family>();
  const errors: { line: number; message: string }[] = [];
  const format = /^# EOF\s*$/m.test(text) ? 'openmetrics' : 'prometheus';
  const family = (name: string): Family => {
    let f = byName.get(name);
    if (f === undefined) {
      f = { name, type: 'untyped', help: undefined, samples: [] };
      byName.set(name, f);
      families.push(f);
    }
    return f;
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE|UNIT)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (m === null) continue;
      const [, kw, name, rest = ''] = m;
      if (kw === 'HELP') family(name!).help = rest;
      else if (kw === 'TYPE') family(name!).type = rest.trim();
      continue;
    }
    const sample = parseSample(line, lineNo);
    if (typeof sample === 'string') {
      errors.push({ line: lineNo, message: sample });
      continue;
    }
    family(familyOf(sample.name, byName)).samples.push(sample);
  }
  return { format, families, errors };
}

function familyOf(sample: string, byName: Map<string, Family>): string {
  if (byName.has(sample)) {
    const f = byName.get(sample)!;
    if (f.type !== 'untyped' || f.samples.length > 0 || f.help !== undefined) return sample;
  }
  for (const [type, sufs] of Object.entries(SUFFIXES)) {
    for (const s of sufs) {
      if (!sample.endsWith(s)) continue;
      const base = sample.slice(0, -s.length);
      if (byName.get(base)?.type === type) return base;
    }
  }
  return sample;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

function parseSample(line: string, lineNo: number): Sample | string {
  const nm = NAME.exec(line);
  if (nm === null) return `line ${lineNo}: no metric name at the start of a sample`;
  const name = nm[0];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === '{') {
    pos++;
    for (;;) {
      while (line[pos] === ' ') pos++;
      if (line[pos] === '}') {
        pos++;
        break;
      }
      const lm = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(pos));
      if (lm === null) return `line ${lineNo}: invalid label name in ${name}`;
      const label = lm[0];
      pos += label.length;
      if (line[pos] !== '=' || line[pos + 1] !== '"')
        return `line ${lineNo}: expected ="…" after label ${label}`;
      pos += 2;
      let value = '';
      for (;;) {
        const c = line[pos];
        if (c === undefined) return `line ${lineNo}: unterminated label value of ${label}`;
        if (c === '"') break;
        if (c === '\\') {
          const n = line[pos + 1];
          value += n === 'n' ? '\n' : (n ?? '');
          pos += 2;
          continue;
        }
        value += c;
        pos++;
      }
      pos++;
      if (label in labels) return `line ${lineNo}: label ${label} appears twice in ${name}`;
      labels[label] = value;
      while (line[pos] === ' ') pos++;
      if (line[pos] === ',') pos++;
      else if (line[pos] !== '}') return `line ${lineNo}: expected , or } in the labels of ${name}`;
    }
  }
  const rest = line.slice(pos).split(' # ')[0]!.trim().split(/\s+/);
  const v = rest[0];
  if (v === undefined || v === '') return `line ${lineNo}: ${name} has no value`;
  const value = parseValue(v);
  if (value === undefined) return `line ${lineNo}: ${name} has the value "${v}", not a number`;
  return { name, labels, value, line: lineNo };
}

function parseValue(v: string): number | undefined {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return NaN;
  const n = Number(v);
  return Number.isNaN(n) ? undefined : n;
}

// ------------------------------------------------------------------ checks

/** One finding of `check-metrics`. */
export interface Finding {
  readonly family: string;
  /** A naming rule id of `metrics/rules.ts`, or one of the exposition checks. */
  readonly rule: string;
  readonly message: string;
}

/** Options of {@link checkExposition}. */
export interface CheckOptions {
  /** Labels every series must carry. @default ['service'] */
  requiredLabels?: readonly string[];
  /** How many families the cardinality report lists. @default 10 */
  top?: number;
  /** Catalog to check against. @default every stacklight catalog entry */
  catalog?: readonly MetricDefinition[];
}

/** What `check-metrics` reports. */
export interface CheckReport {
  readonly format: 'prometheus' | 'openmetrics';
  readonly families: number;
  readonly series: number;
  readonly violations: Finding[];
  /** Families by series count, largest first. */
  readonly cardinality: { family: string; series: number }[];
  /** Names kept on purpose although a rule flags them (see docs/lint/check-metrics.md). */
  readonly exceptions: Finding[];
}

/**
 * prom-client's default Node.js metrics that break a rule under names every
 * Node.js dashboard uses: reported as known exceptions, not violations.
 */
export const KNOWN_EXCEPTIONS: Readonly<Record<string, string>> = Object.freeze({
  nodejs_active_handles_total: "prom-client's default metric (a gauge named _total)",
  nodejs_active_requests_total: "prom-client's default metric (a gauge named _total)",
  nodejs_active_resources_total: "prom-client's default metric (a gauge named _total)",
});

/** Labels written by the exposition or the registry, not part of a catalog entry. */
const NON_CATALOG_LABELS = new Set(['service', 'env', 'region', 'le', 'quantile']);

/** Runs every check on an exposition. */
export function checkExposition(text: string, options: CheckOptions = {}): CheckReport {
  const parsed = parseExposition(text);
  const required = options.requiredLabels ?? ['service'];
  const catalog = new Map((options.catalog ?? allMetricDefinitions()).map((d) => [d.name, d]));
  const violations: Finding[] = [];
  const exceptions: Finding[] = [];
  for (const e of parsed.errors) {
    violations.push({ family: '', rule: 'parse', message: e.message });
  }
  let seriesTotal = 0;
  const cardinality: { family: string; series: number }[] = [];

  for (const f of parsed.families) {
    const kind = kindOf(f.type);
    // OpenMetrics names a counter family without `_total`; the metric's name has it.
    const metricName =
      parsed.format === 'openmetrics' && f.type === 'counter' ? `${f.name}_total` : f.name;
    const add = (rule: string, message: string): void => {
      const finding = { family: metricName, rule, message };
      if (KNOWN_EXCEPTIONS[metricName] !== undefined)
        exceptions.push({ ...finding, message: `${message} (${KNOWN_EXCEPTIONS[metricName]})` });
      else violations.push(finding);
    };

    for (const v of checkMetricName(metricName, kind)) add(v.rule, v.message);
    if (f.help === undefined || f.help.trim() === '') {
      add('help', `${metricName} has no help text: describe what it counts or measures`);
    }
    if (f.type === 'untyped' || f.type === 'unknown') {
      add('metric-type', `${metricName} has no # TYPE line (untyped): declare its type`);
    }

    const labelNames = new Set<string>();
    const series = new Set<string>();
    let withoutService = 0;
    for (const s of f.samples) {
      for (const l of Object.keys(s.labels)) labelNames.add(l);
      for (const r of required) if (!(r in s.labels)) withoutService++;
      // One series per label set: a histogram's buckets, sum and count are one.
      const { le: _le, quantile: _q, ...rest } = s.labels;
      series.add(JSON.stringify(Object.entries(rest).sort()));
    }
    if (withoutService > 0) {
      add(
        'missing-service',
        `${withoutService} sample(s) of ${metricName} carry no ${required.join('/')} label: ` +
          'set it as a registry default label (stacklight does) so that every series says where it comes from',
      );
    }
    for (const l of labelNames) {
      if (l === 'le' && (f.type === 'histogram' || f.type === 'gaugehistogram')) continue;
      if (l === 'quantile' && f.type === 'summary') continue;
      if (required.includes(l)) continue;
      for (const v of checkLabelName(l)) add(v.rule, `${metricName}: ${v.message}`);
      if (isHighCardinalityLabel(l)) {
        add(
          'high-cardinality-label',
          `${metricName} has the label "${l}", which holds identifiers or free text (one series per value): ` +
            'keep it in logs or spans and label by a bounded category',
        );
      }
    }

    const def = catalog.get(metricName);
    if (def !== undefined) conformance(def, f, kind, labelNames, add);

    seriesTotal += series.size;
    cardinality.push({ family: metricName, series: series.size });
  }
  cardinality.sort((a, b) => b.series - a.series || a.family.localeCompare(b.family));
  return {
    format: parsed.format,
    families: parsed.families.length,
    series: seriesTotal,
    violations,
    cardinality: cardinality.slice(0, options.top ?? 10),
    exceptions,
  };
}

function kindOf(type: string): MetricKind | undefined {
  return type === 'counter' || type === 'gauge' || type === 'histogram' || type === 'summary'
    ? type
    : undefined;
}

function conformance(
  def: MetricDefinition,
  f: Family,
  kind: MetricKind | undefined,
  labelNames: ReadonlySet<string>,
  add: (rule: string, message: string) => void,
): void {
  if (kind !== def.type) {
    add('catalog-type', `${def.name} is a ${def.type} in the catalog, exposed as ${f.type}`);
  }
  const own = [...labelNames].filter((l) => !NON_CATALOG_LABELS.has(l)).sort();
  const expected = [...def.labelNames].sort();
  if (f.samples.length > 0 && own.join(',') !== expected.join(',')) {
    add(
      'catalog-labels',
      `${def.name} has labels [${own.join(', ')}]; the catalog declares [${expected.join(', ')}]`,
    );
  }
  if (def.type === 'histogram' && def.buckets !== undefined && f.samples.length > 0) {
    const les = new Set<number>();
    for (const s of f.samples) {
      const le = s.labels.le;
      if (s.name.endsWith('_bucket') && le !== undefined && le !== '+Inf') les.add(Number(le));
    }
    const got = [...les].sort((a, b) => a - b);
    if (got.join(',') !== def.buckets.join(',')) {
      add(
        'catalog-buckets',
        `${def.name} has buckets [${got.join(', ')}]; the catalog declares [${def.buckets.join(', ')}] ` +
          '(the SLO thresholds must be bucket boundaries)',
      );
    }
  }
}
