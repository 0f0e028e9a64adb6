import { ConfigError } from '../errors.js';
import type { SloDefinition, SloObjective } from './types.js';

const NAME = /^[a-z][a-z0-9-]*$/;
const OBJECTIVE = /^[a-z][a-z0-9_]*$/;
const DURATION = /^[1-9][0-9]*(m|h|d|w)$/;
const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const ALERT = /^[A-Z][A-Za-z0-9]*$/;

/**
 * Validates an SLO definition and returns it frozen. Errors name the field,
 * the value and what is allowed, like `init()`'s.
 *
 * @example
 * const checkout = defineSlo({
 *   name: 'checkout', title: 'Checkout', description: 'Orders are placed', window: '28d',
 *   runbook: 'rb-01-edge-availability',
 *   objectives: [{ name: 'availability', description: '99.5 % succeed', target: 0.995,
 *     sli: { kind: 'ratio', metric: 'http_requests_total',
 *            matchers: 'service="shop",route="/checkout"', badMatchers: 'code=~"5.."' } }],
 * });
 */
export function defineSlo(def: SloDefinition): SloDefinition {
  const where = `slo "${String(def?.name)}"`;
  if (typeof def?.name !== 'string' || !NAME.test(def.name))
    throw new ConfigError('slo.name', def?.name, 'lower-case letters, digits and "-"');
  for (const key of ['title', 'description', 'runbook'] as const)
    if (typeof def[key] !== 'string' || def[key] === '')
      throw new ConfigError(`${where}.${key}`, def[key], 'a non-empty string');
  if (!/^[a-z0-9-]+$/.test(def.runbook))
    throw new ConfigError(
      `${where}.runbook`,
      def.runbook,
      'a page slug such as rb-01-edge-availability',
    );
  if (typeof def.window !== 'string' || !DURATION.test(def.window))
    throw new ConfigError(
      `${where}.window`,
      def.window,
      'a Prometheus duration such as 28d or 90d',
    );
  if (!Array.isArray(def.objectives) || def.objectives.length === 0)
    throw new ConfigError(`${where}.objectives`, def.objectives, 'a non-empty array');
  const seen = new Set<string>();
  for (const o of def.objectives) {
    checkObjective(where, o);
    if (seen.has(o.name))
      throw new ConfigError(`${where}.objectives`, o.name, 'objective names unique within the SLO');
    seen.add(o.name);
  }
  return Object.freeze({ ...def, objectives: Object.freeze([...def.objectives]) });
}

function checkObjective(where: string, o: SloObjective): void {
  const at = `${where}.objectives["${String(o?.name)}"]`;
  if (typeof o?.name !== 'string' || !OBJECTIVE.test(o.name))
    throw new ConfigError(
      `${where}.objectives[].name`,
      o?.name,
      'lower-case letters, digits and "_"',
    );
  if (typeof o.target !== 'number' || !(o.target > 0 && o.target < 1))
    throw new ConfigError(`${at}.target`, o.target, 'a number between 0 and 1 (exclusive)');
  if (o.alert !== undefined && (typeof o.alert !== 'string' || !ALERT.test(o.alert)))
    throw new ConfigError(`${at}.alert`, o.alert, 'a PascalCase alert name');
  if (
    o.minEventsPerHour !== undefined &&
    (typeof o.minEventsPerHour !== 'number' || !(o.minEventsPerHour >= 0))
  )
    throw new ConfigError(`${at}.minEventsPerHour`, o.minEventsPerHour, 'a number ≥ 0');
  const sli = o.sli;
  const kind = (sli as { kind?: unknown } | undefined)?.kind;
  if (kind !== 'ratio' && kind !== 'latency')
    throw new ConfigError(`${at}.sli.kind`, kind, '"ratio" or "latency"');
  if (typeof sli.metric !== 'string' || !METRIC.test(sli.metric))
    throw new ConfigError(`${at}.sli.metric`, sli.metric, 'a Prometheus metric name');
  if (typeof sli.matchers !== 'string')
    throw new ConfigError(`${at}.sli.matchers`, sli.matchers, 'PromQL matchers without braces');
  if (sli.kind === 'latency') {
    if (typeof sli.threshold !== 'number' || !(sli.threshold > 0) || sli.threshold === Infinity)
      throw new ConfigError(`${at}.sli.threshold`, sli.threshold, 'a positive bucket bound');
  } else {
    if (typeof sli.badMatchers !== 'string')
      throw new ConfigError(`${at}.sli.badMatchers`, sli.badMatchers, 'PromQL matchers');
    for (const k of ['badMetric', 'goodMetric'] as const) {
      const v = sli[k];
      if (v !== undefined && (typeof v !== 'string' || !METRIC.test(v)))
        throw new ConfigError(`${at}.sli.${k}`, v, 'a Prometheus metric name');
    }
  }
}

/** PascalCase of `login-availability` style names. */
export function pascal(...parts: readonly string[]): string {
  return parts
    .flatMap((p) => p.split(/[-_]/))
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}
