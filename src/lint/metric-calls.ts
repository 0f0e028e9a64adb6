/**
 * Finds the places where code defines a metric: prom-client constructors
 * (`new Counter({...})`, `new client.Histogram({...})`) and stacklight's
 * `defineMetric({...})` (`telemetry.defineMetric`, or a name given in the
 * rule options).
 */
import type { MetricKind } from '../metrics/rules.js';
import { calleeName, findProperty, staticString, unwrap, type AnyNode } from './ast.js';

/** prom-client constructor names and the kind each makes. */
export const PROM_CONSTRUCTORS: Readonly<Record<string, MetricKind>> = Object.freeze({
  Counter: 'counter',
  Gauge: 'gauge',
  Histogram: 'histogram',
  Summary: 'summary',
});

/** One metric definition found in code. */
export interface MetricDefinitionSite {
  /** The object literal passed as the definition. */
  readonly obj: AnyNode;
  /** The kind, when known statically. */
  readonly kind: MetricKind | undefined;
  /** The `type` value as written, when static (may be an unknown word). */
  readonly typeText: string | undefined;
  readonly via: 'prom-client' | 'defineMetric';
}

/** Options shared by the rules that read metric definitions. */
export interface DefinitionOptions {
  /** Function names that take a stacklight metric definition. @default ['defineMetric'] */
  definers?: string[];
}

/** The definition made by a `new`/call node, if it is one. */
export function metricDefinitionAt(
  node: AnyNode,
  options: DefinitionOptions = {},
): MetricDefinitionSite | undefined {
  const arg = unwrap((node.arguments as AnyNode[] | undefined)?.[0]);
  if (arg?.type !== 'ObjectExpression') return undefined;
  const name = calleeName(node.callee as AnyNode);
  if (name === undefined) return undefined;
  if (node.type === 'NewExpression') {
    const kind = PROM_CONSTRUCTORS[name];
    return kind === undefined ? undefined : { obj: arg, kind, typeText: kind, via: 'prom-client' };
  }
  if (node.type === 'CallExpression' && (options.definers ?? ['defineMetric']).includes(name)) {
    const typeProp = findProperty(arg, 'type');
    const typeText = typeProp === undefined ? undefined : staticString(typeProp.value as AnyNode);
    const kind =
      typeText !== undefined && Object.values(PROM_CONSTRUCTORS).includes(typeText as MetricKind)
        ? (typeText as MetricKind)
        : undefined;
    return { obj: arg, kind, typeText, via: 'defineMetric' };
  }
  return undefined;
}

/** JSON schema of {@link DefinitionOptions} properties, for rule `meta.schema`. */
export const DEFINERS_SCHEMA = {
  type: 'array',
  items: { type: 'string' },
  uniqueItems: true,
} as const;
