/**
 * The naming and definition rules of metrics, written once. `defineMetric`
 * (and the catalog, in a test), the ESLint plugin (`stacklight/eslint-plugin`)
 * and `stacklight check-metrics` all call these functions, so an author sees
 * the same rule id and the same advice in the editor, at start-up and against
 * a running service's `/metrics`.
 *
 * Pure functions over plain values: no prom-client, no Node API, safe to load
 * inside ESLint.
 *
 * Units. Histograms and summaries end in a unit suffix, in the plural, in the
 * base unit Prometheus recommends ({@link BASE_UNIT_SUFFIXES}: `seconds`,
 * `bytes`, `meters`, `grams`, `joules`, `volts`, `amperes`, `celsius`,
 * `kelvin`, `ratio`). The one exception is `_ms`: the observability spec's
 * own metric names (`job_duration_ms`, `event_delivery_lag_ms`,
 * `vendor_req_duration_ms`, `ai_request_duration_ms`) are used verbatim by its
 * PromQL, alerts and dashboards, so exactly those names keep it
 * ({@link SPEC_MS_NAMES}); any other name with `_ms`, `_milliseconds` or
 * another scaled unit is told to use the base unit instead.
 */

/** Instrument kinds a definition can name. `summary` is recognised only to be refused clearly. */
export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary';

/** Id of one rule; stable, shown in every message and usable in docs links. */
export type MetricRuleId =
  | 'metric-type'
  | 'name-grammar'
  | 'name-snake-case'
  | 'counter-total'
  | 'total-only-counters'
  | 'reserved-suffix'
  | 'base-unit'
  | 'unit-suffix'
  | 'label-grammar'
  | 'label-snake-case'
  | 'reserved-label'
  | 'duplicate-label'
  | 'bounded-labels'
  | 'buckets'
  | 'help';

/** One broken rule: its id, and a message that says what to write instead. */
export interface RuleViolation {
  readonly rule: MetricRuleId;
  readonly message: string;
}

/** What each rule asks for, in one sentence (docs, `--help`, lint metadata). */
export const METRIC_RULES: Readonly<Record<MetricRuleId, string>> = Object.freeze({
  'metric-type': "type is 'counter', 'gauge' or 'histogram' ('summary' is refused)",
  'name-grammar': 'the name matches [a-zA-Z_][a-zA-Z0-9_]* (no colons, dashes or dots)',
  'name-snake-case': 'the name is lowercase snake_case and does not start with __',
  'counter-total': 'a counter name ends in _total',
  'total-only-counters': 'only counters end in _total',
  'reserved-suffix':
    'no name ends in _bucket, _count, _sum, _created, and only gauges end in _info (the exposition adds those)',
  'base-unit':
    'units are spelled out in base units: no abbreviations (_ms, _s, _b, _m, …) and no scaled units (_milliseconds, _kilobytes, _minutes, …)',
  'unit-suffix': 'a histogram or summary name ends in a base unit (_seconds, _bytes, _ratio, …)',
  'label-grammar': 'label names match [a-zA-Z_][a-zA-Z0-9_]*',
  'label-snake-case': 'label names are lowercase snake_case',
  'reserved-label': 'labels are not le, quantile, service or a name starting with __',
  'duplicate-label': 'a label name appears once',
  'bounded-labels': 'boundedLabels lists only declared labels',
  buckets: 'histogram buckets are given, finite, ascending and unique',
  help: 'help is a non-empty sentence',
});

/**
 * Unit suffixes a histogram or summary may end in: Prometheus base units
 * (plural), plus `ratio` for values in [0, 1].
 */
export const BASE_UNIT_SUFFIXES: readonly string[] = Object.freeze([
  'seconds',
  'bytes',
  'meters',
  'grams',
  'joules',
  'volts',
  'amperes',
  'celsius',
  'kelvin',
  'ratio',
]);

/** The spec's metric names that keep their `_ms` unit (see the module comment). */
export const SPEC_MS_NAMES: readonly string[] = Object.freeze([
  'job_duration_ms',
  'event_delivery_lag_ms',
  'vendor_req_duration_ms',
  'ai_request_duration_ms',
]);

/** Abbreviated units (as whole words of a name), and the base unit to spell out instead. */
const ABBREVIATED_UNITS: Readonly<Record<string, string>> = Object.freeze({
  s: 'seconds',
  ms: 'seconds',
  us: 'seconds',
  ns: 'seconds',
  sec: 'seconds',
  b: 'bytes',
  kb: 'bytes',
  mb: 'bytes',
  gb: 'bytes',
  tb: 'bytes',
  pb: 'bytes',
  m: 'meters',
  h: 'seconds',
  d: 'seconds',
});

const SI_PREFIXES = [
  'exa',
  'peta',
  'tera',
  'giga',
  'mega',
  'kilo',
  'hecto',
  'deca',
  'deci',
  'centi',
  'milli',
  'micro',
  'nano',
  'pico',
  'femto',
] as const;

/** Scaled units (as whole words of a name), and the base unit to use instead. */
const NON_BASE_UNITS: Readonly<Record<string, string>> = Object.freeze({
  minutes: 'seconds',
  hours: 'seconds',
  days: 'seconds',
  weeks: 'seconds',
  bits: 'bytes',
  fahrenheit: 'celsius',
  kelvins: 'kelvin',
  ...Object.fromEntries(
    SI_PREFIXES.flatMap((p) =>
      ['seconds', 'bytes', 'meters', 'grams', 'joules', 'volts', 'amperes'].map((u) => [
        `${p}${u}`,
        u,
      ]),
    ),
  ),
});

/** Labels a definition may not declare, and why. */
export const RESERVED_LABELS: Readonly<Record<string, string>> = Object.freeze({
  le: 'the exposition writes it on histogram buckets',
  quantile: 'the exposition writes it on summary quantiles',
  service: 'every series already carries it (a registry default label)',
});

/**
 * Label names that usually hold identifiers or free text, one series per
 * value: used by the `no-high-cardinality-labels` lint rule and the
 * cardinality report of `check-metrics`. Compared after lowercasing and
 * removing `_` and `-` (`user_id`, `userId` and `USER-ID` are one entry).
 */
export const HIGH_CARDINALITY_LABELS: readonly string[] = Object.freeze([
  'userid',
  'user',
  'username',
  'accountid',
  'customerid',
  'tenantid',
  'sessionid',
  'requestid',
  'traceid',
  'spanid',
  'correlationid',
  'jobid',
  'eventid',
  'orderid',
  'tradeid',
  'messageid',
  'id',
  'uuid',
  'email',
  'emailaddress',
  'mail',
  'phone',
  'url',
  'uri',
  'path',
  'rawpath',
  'query',
  'querystring',
  'ip',
  'ipaddress',
  'clientip',
  'remoteaddr',
  'useragent',
  'token',
  'message',
  'msg',
  'error',
  'errormessage',
  'stack',
  'body',
  'timestamp',
  'ts',
]);

/** Lowercases and drops `_` / `-`: `user_id`, `userId`, `USER-ID` → `userid`. */
export function normalizeLabelKey(label: string): string {
  return label.toLowerCase().replace(/[-_]/g, '');
}

/** Whether a label name looks like an identifier or free text ({@link HIGH_CARDINALITY_LABELS}). */
export function isHighCardinalityLabel(
  label: string,
  list: readonly string[] = HIGH_CARDINALITY_LABELS,
): boolean {
  const n = normalizeLabelKey(label);
  return list.some((l) => normalizeLabelKey(l) === n);
}

const NAME_GRAMMAR = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_GRAMMAR = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SNAKE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const KINDS: readonly string[] = ['counter', 'gauge', 'histogram', 'summary'];

/**
 * Rewrites any spelling into lowercase snake_case: `ordersCreated`,
 * `orders-created`, `Orders.Created` → `orders_created`. Returns `''` when
 * nothing usable is left.
 */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase()
    .replace(/^[_0-9]+/, '')
    .replace(/_+$/, '')
    .replace(/_+/g, '_');
}

function q(s: string): string {
  return JSON.stringify(s);
}

function v(rule: MetricRuleId, message: string): RuleViolation {
  return { rule, message };
}

/**
 * The name this rule set would accept for `name` as a `kind`, when it can
 * be derived mechanically (case, separators, the `_total` suffix); `undefined`
 * when no rewrite helps (a missing unit, a reserved suffix). Used for lint
 * autofixes and in messages.
 */
export function suggestMetricName(name: string, kind: MetricKind): string | undefined {
  let s = toSnakeCase(name);
  if (s === '') return undefined;
  if (kind === 'counter') {
    if (!s.endsWith('_total')) s += '_total';
  } else {
    while (s.endsWith('_total')) s = s.slice(0, -'_total'.length);
  }
  if (s === '' || s === name) return undefined;
  return checkMetricName(s, kind).length === 0 ? s : undefined;
}

/**
 * Checks a metric name for a kind of instrument. `kind` may be omitted when
 * it is not known (a name read from code without its type): the type-bound
 * rules are then skipped.
 */
export function checkMetricName(name: string, kind?: MetricKind): RuleViolation[] {
  const out: RuleViolation[] = [];
  if (name === '' || !NAME_GRAMMAR.test(name) || name.includes(':')) {
    const fix = toSnakeCase(name);
    out.push(
      v(
        'name-grammar',
        `metric name ${q(name)} is not a valid Prometheus name: use letters, digits and _ only` +
          (name.includes(':') ? ' (colons are reserved for recording rules)' : '') +
          (fix ? `, e.g. ${q(fix)}` : ''),
      ),
    );
    return out;
  }
  if (!SNAKE.test(name)) {
    const fix = toSnakeCase(name);
    out.push(
      v(
        'name-snake-case',
        `metric name ${q(name)} is not lowercase snake_case` +
          (name.startsWith('__') ? ' (names starting with __ are reserved)' : '') +
          (fix && fix !== name ? `: write ${q(fix)}` : ''),
      ),
    );
  }
  const lower = name.toLowerCase();
  const tokens = lower.split('_').filter((t) => t !== '');
  const last = tokens[tokens.length - 1] ?? '';

  for (const suffix of ['bucket', 'count', 'sum', 'created'] as const) {
    if (last === suffix) {
      out.push(
        v(
          'reserved-suffix',
          `metric name ${q(name)} ends in _${suffix}, which the exposition adds itself` +
            (suffix === 'created'
              ? ' (OpenMetrics creation timestamps)'
              : ' (histogram and summary series)') +
            `: drop the suffix or choose another word`,
        ),
      );
    }
  }
  if (last === 'info' && kind !== undefined && kind !== 'gauge') {
    out.push(
      v(
        'reserved-suffix',
        `metric name ${q(name)} ends in _info, which marks an info metric (a gauge set to 1): ` +
          `make it a gauge or drop the suffix`,
      ),
    );
  }

  if (kind === 'counter' && last !== 'total') {
    out.push(
      v(
        'counter-total',
        `counter ${q(name)} must end in _total: write ${q(`${stripTotal(toSnakeCase(name) || name)}_total`)}`,
      ),
    );
  }
  if (kind !== undefined && kind !== 'counter' && last === 'total') {
    out.push(
      v(
        'total-only-counters',
        `${kind} ${q(name)} ends in _total, which only counters do: write ${q(stripTotal(name))}` +
          (kind === 'gauge' ? ', or make it a counter if it only goes up' : ''),
      ),
    );
  }

  // Units: every word of the name, except in the spec's own `_ms` names.
  const specMs = SPEC_MS_NAMES.includes(name);
  let unitReported = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const abbr = specMs ? undefined : ABBREVIATED_UNITS[t];
    const scaled = NON_BASE_UNITS[t];
    const base = abbr ?? scaled;
    if (base === undefined) continue;
    unitReported = true;
    const fixed = [...tokens.slice(0, i), base, ...tokens.slice(i + 1)].join('_');
    out.push(
      v(
        'base-unit',
        abbr !== undefined
          ? `metric name ${q(name)} abbreviates a unit (_${t}): spell out the base unit and record ` +
              `values in it, e.g. ${q(fixed)}`
          : `metric name ${q(name)} uses the scaled unit _${t}: record in the base unit and write ${q(fixed)}`,
      ),
    );
  }
  if ((kind === 'histogram' || kind === 'summary') && !unitReported) {
    if (!BASE_UNIT_SUFFIXES.includes(last) && !specMs) {
      out.push(
        v(
          'unit-suffix',
          `${kind} ${q(name)} does not end in a unit: append the base unit of what it measures, ` +
            `e.g. ${q(`${stripTotal(name)}_seconds`)} or ${q(`${stripTotal(name)}_bytes`)} ` +
            `(allowed: ${BASE_UNIT_SUFFIXES.map((u) => `_${u}`).join(', ')})`,
        ),
      );
    }
  }
  return out;
}

function stripTotal(name: string): string {
  let s = name;
  while (s.endsWith('_total')) s = s.slice(0, -'_total'.length);
  return s;
}

/**
 * Checks one label name. `reserved` adds names the registry already sets on
 * every series (its default labels: `env`, `region` when enabled).
 */
export function checkLabelName(label: string, reserved: readonly string[] = []): RuleViolation[] {
  if (typeof label !== 'string' || label === '' || !LABEL_GRAMMAR.test(label)) {
    const fix = typeof label === 'string' ? toSnakeCase(label) : '';
    return [
      v(
        'label-grammar',
        `label name ${typeof label === 'string' ? q(label) : String(label)} is not a valid Prometheus ` +
          `label name: use letters, digits and _ only${fix ? `, e.g. ${q(fix)}` : ''}`,
      ),
    ];
  }
  if (label.startsWith('__')) {
    return [
      v(
        'reserved-label',
        `label ${q(label)} starts with __, which Prometheus reserves for its own use: ` +
          `write ${q(toSnakeCase(label) || 'kind')}`,
      ),
    ];
  }
  const why = RESERVED_LABELS[label];
  if (why !== undefined || reserved.includes(label)) {
    return [
      v(
        'reserved-label',
        `label ${q(label)} is reserved: ${why ?? 'every series already carries it (a registry default label)'}; ` +
          `remove it or name what it means (e.g. ${q(`${label}_name`)})`,
      ),
    ];
  }
  if (!SNAKE.test(label)) {
    return [
      v(
        'label-snake-case',
        `label name ${q(label)} is not lowercase snake_case: write ${q(toSnakeCase(label))}`,
      ),
    ];
  }
  return [];
}

/** Checks a histogram's bucket upper bounds. */
export function checkBuckets(buckets: unknown): RuleViolation[] {
  if (!Array.isArray(buckets) || buckets.length === 0) {
    return [
      v(
        'buckets',
        'a histogram needs buckets: a non-empty array of upper bounds in its unit, ascending ' +
          '(e.g. [0.05, 0.1, 0.25, 0.5, 1, 2.5] for seconds), with the SLO thresholds among them',
      ),
    ];
  }
  for (let i = 0; i < buckets.length; i++) {
    const b: unknown = buckets[i];
    if (typeof b !== 'number' || !Number.isFinite(b)) {
      return [
        v(
          'buckets',
          `bucket ${i} is ${typeof b === 'number' ? String(b) : (JSON.stringify(b) ?? String(b))}: ` +
            `buckets are finite numbers (+Inf is added by the exposition; leave it out)`,
        ),
      ];
    }
    if (i > 0 && !(b > (buckets[i - 1] as number))) {
      return [
        v(
          'buckets',
          `buckets must be ascending and unique: ${buckets[i - 1] as number} is followed by ${b}; ` +
            `sort them and drop duplicates`,
        ),
      ];
    }
  }
  return [];
}

/** The shape the definition checks read; every field is `unknown` so JavaScript input is checked too. */
export interface MetricDefinitionInput {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly help?: unknown;
  readonly labelNames?: unknown;
  readonly boundedLabels?: unknown;
  readonly buckets?: unknown;
}

/**
 * Checks a whole metric definition (what `defineMetric` takes) against every
 * rule. Returns all violations, most basic first; empty when it is valid.
 * `reservedLabels` adds the registry's default labels beyond `service`.
 */
export function checkMetricDefinition(
  def: MetricDefinitionInput,
  reservedLabels: readonly string[] = [],
): RuleViolation[] {
  const out: RuleViolation[] = [];
  const { name, type } = def;
  if (typeof type !== 'string' || !KINDS.includes(type)) {
    out.push(
      v('metric-type', `type is ${JSON.stringify(type)}: use 'counter', 'gauge' or 'histogram'`),
    );
  } else if (type === 'summary') {
    out.push(
      v(
        'metric-type',
        "type 'summary' is not supported: a summary's quantiles cannot be added up across " +
          "instances; use type 'histogram' with buckets (histogram_quantile() gives the quantiles)",
      ),
    );
  }
  const kind = typeof type === 'string' && KINDS.includes(type) ? (type as MetricKind) : undefined;
  if (typeof name !== 'string') {
    out.push(v('name-grammar', `name is ${JSON.stringify(name)}: give a snake_case string`));
  } else {
    out.push(...checkMetricName(name, kind));
  }

  const help = def.help;
  if (typeof help !== 'string' || help.trim() === '') {
    out.push(
      v(
        'help',
        `help is ${help === undefined ? 'missing' : JSON.stringify(help)}: write one sentence saying ` +
          'what is counted or measured, and by which labels',
      ),
    );
  }

  const labels = def.labelNames === undefined ? [] : def.labelNames;
  if (!Array.isArray(labels)) {
    out.push(v('label-grammar', 'labelNames must be an array of label names'));
  } else {
    const seen = new Set<string>();
    for (const l of labels as unknown[]) {
      out.push(...checkLabelName(l as string, reservedLabels));
      if (typeof l === 'string') {
        if (seen.has(l))
          out.push(v('duplicate-label', `label ${q(l)} is listed twice: list it once`));
        seen.add(l);
      }
    }
    const bounded = def.boundedLabels;
    if (bounded !== undefined) {
      if (!Array.isArray(bounded)) {
        out.push(v('bounded-labels', 'boundedLabels must be an array of declared label names'));
      } else {
        for (const b of bounded as unknown[]) {
          if (typeof b !== 'string' || !seen.has(b)) {
            out.push(
              v(
                'bounded-labels',
                `boundedLabels lists ${JSON.stringify(b)}, which is not in labelNames: add it there or remove it`,
              ),
            );
          }
        }
      }
    }
  }

  if (kind === 'histogram') out.push(...checkBuckets(def.buckets));
  else if (def.buckets !== undefined && kind !== undefined && kind !== 'summary') {
    out.push(v('buckets', `a ${kind} has no buckets: remove buckets, or make it a histogram`));
  }
  return out;
}

/** One line per violation, `rule-id: message`, for errors and CLI output. */
export function formatViolations(violations: readonly RuleViolation[]): string {
  return violations.map((x) => `[${x.rule}] ${x.message}`).join('; ');
}
