/**
 * `stacklight/catalog-labels`: calls on catalog instruments
 * (`telemetry.metrics.httpRequestsTotal.inc({...})`) pass exactly the
 * catalog's labels. TypeScript already checks this through the instruments'
 * types; the rule is for JavaScript, where a wrong label object is only
 * caught at run time (dropped and counted, see docs/metrics.md).
 */
import type { Rule } from 'eslint';
import { METRIC_CATALOG, SELF_METRIC_CATALOG, type MetricDefinition } from '../metrics/catalog.js';
import { keyName, memberPath, unwrap, type AnyNode } from './ast.js';

const METHODS: ReadonlySet<string> = new Set([
  'inc',
  'dec',
  'set',
  'observe',
  'bind',
  'read',
  'remove',
]);

/** `metrics.<key>` and `selfMetrics.<key>` → definition. */
const INSTRUMENTS: ReadonlyMap<string, MetricDefinition> = new Map<string, MetricDefinition>([
  ...Object.entries(METRIC_CATALOG).map(([k, d]): [string, MetricDefinition] => [
    `metrics.${k}`,
    d,
  ]),
  ...Object.entries(SELF_METRIC_CATALOG).map(([k, d]): [string, MetricDefinition] => [
    `selfMetrics.${k}`,
    d,
  ]),
]);

/** `stacklight/catalog-labels`. */
export const catalogLabels: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description: "Calls on catalog instruments pass exactly the catalog's labels",
    },
    hasSuggestions: true,
    schema: [],
    messages: {
      wrongLabels:
        '{{metric}} takes labels [{{expected}}]: {{problem}}. Such an observation is dropped at run time.',
      noLabels: '{{metric}} takes no labels: call {{method}}({{value}}) without a label object.',
      unresolvable:
        "The label object of {{metric}} is built at run time, so it cannot be checked against the catalog's labels [{{expected}}]: write it as an object literal.",
      rename: 'Rename "{{from}}" to "{{to}}".',
    },
  },

  create(context) {
    return {
      CallExpression(node: Rule.Node) {
        const n = node as unknown as AnyNode;
        const callee = unwrap(n.callee as AnyNode);
        if (callee?.type !== 'MemberExpression' || callee.computed) return;
        const method = (callee.property as AnyNode).name as string;
        if (!METHODS.has(method)) return;
        const path = memberPath(callee.object as AnyNode);
        if (path === undefined) return;
        const parts = path.split('.');
        const def = INSTRUMENTS.get(parts.slice(-2).join('.'));
        if (def === undefined) return;
        const metric = def.name;
        const expected = def.labelNames;
        const args = n.arguments as AnyNode[];
        const first = unwrap(args[0]);

        if (expected.length === 0) {
          if (first?.type === 'ObjectExpression') {
            context.report({
              node: first as unknown as Rule.Node,
              messageId: 'noLabels',
              data: { metric, method, value: args[1] ? 'value' : '' },
            });
          }
          return;
        }
        const data = { metric, expected: expected.join(', ') };
        if (first === undefined || first.type === 'Literal' || first.type === 'UnaryExpression') {
          // `inc()` / `inc(2)` on a labelled metric.
          if (method === 'read' && first === undefined) return;
          context.report({
            node,
            messageId: 'wrongLabels',
            data: { ...data, problem: `no label object (missing ${expected.join(', ')})` },
          });
          return;
        }
        if (first.type !== 'ObjectExpression') {
          context.report({
            node: first as unknown as Rule.Node,
            messageId: 'unresolvable',
            data,
          });
          return;
        }
        const present = new Map<string, AnyNode>();
        let opaque = false;
        for (const p of first.properties as AnyNode[]) {
          const k = p.type === 'Property' ? keyName(p) : undefined;
          if (k === undefined) opaque = true;
          else present.set(k, p);
        }
        if (opaque) {
          context.report({
            node: first as unknown as Rule.Node,
            messageId: 'unresolvable',
            data,
          });
          return;
        }
        const missing = expected.filter((l) => !present.has(l));
        const unknown = [...present.keys()].filter((k) => !expected.includes(k));
        if (missing.length === 0 && unknown.length === 0) return;
        const problem = [
          missing.length > 0 ? `missing ${missing.join(', ')}` : '',
          unknown.length > 0 ? `unknown ${unknown.join(', ')}` : '',
        ]
          .filter((s) => s !== '')
          .join('; ');
        const rename =
          missing.length === 1 && unknown.length === 1
            ? { from: unknown[0]!, to: missing[0]!, prop: present.get(unknown[0]!)! }
            : undefined;
        context.report({
          node: first as unknown as Rule.Node,
          messageId: 'wrongLabels',
          data: { ...data, problem },
          ...(rename !== undefined
            ? {
                suggest: [
                  {
                    messageId: 'rename',
                    data: { from: rename.from, to: rename.to },
                    fix: (fixer: Rule.RuleFixer) =>
                      rename.prop.shorthand === true
                        ? fixer.replaceText(
                            rename.prop as unknown as Rule.Node,
                            `${rename.to}: ${rename.from}`,
                          )
                        : fixer.replaceText(rename.prop.key as unknown as Rule.Node, rename.to),
                  },
                ],
              }
            : {}),
        });
      },
    };
  },
};
