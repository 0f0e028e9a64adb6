/**
 * `stacklight/metric-name`: metric names (and the rest of a definition that
 * can be read statically) follow the naming rules of `metrics/rules.ts`, and
 * a name from the catalog keeps the catalog's type and labels.
 */
import type { Rule } from 'eslint';
import {
  allMetricDefinitions,
  METRIC_CATALOG,
  SELF_METRIC_CATALOG,
  type MetricDefinition,
} from '../metrics/catalog.js';
import {
  checkBuckets,
  checkLabelName,
  checkMetricName,
  suggestMetricName,
  toSnakeCase,
} from '../metrics/rules.js';
import {
  findProperty,
  quoteLike,
  staticNumberArray,
  staticString,
  staticStringArray,
  unwrap,
  type AnyNode,
} from './ast.js';
import { DEFINERS_SCHEMA, metricDefinitionAt, type DefinitionOptions } from './metric-calls.js';

const CATALOG: ReadonlyMap<string, MetricDefinition> = new Map(
  allMetricDefinitions().map((d) => [d.name, d]),
);

/** Where each catalog name lives on the Telemetry handle. */
const CATALOG_KEYS: ReadonlyMap<string, string> = new Map<string, string>([
  ...Object.entries(METRIC_CATALOG).map(([k, d]): [string, string] => [d.name, `metrics.${k}`]),
  ...Object.entries(SELF_METRIC_CATALOG).map(([k, d]): [string, string] => [
    d.name,
    `selfMetrics.${k}`,
  ]),
]);

/** `stacklight/metric-name`. */
export const metricName: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Metric names and definitions follow the Prometheus naming rules stacklight enforces at defineMetric()',
    },
    fixable: 'code',
    hasSuggestions: true,
    schema: [
      {
        type: 'object',
        properties: { definers: DEFINERS_SCHEMA },
        additionalProperties: false,
      },
    ],
    messages: {
      violation: '{{message}} [{{rule}}]',
      unresolvable:
        'The metric name is built at run time, so it cannot be checked: write it as a string literal (or disable this line and make sure defineMetric() sees a valid name).',
      unresolvableLabels:
        'labelNames is not an array of string literals, so the labels cannot be checked: list them inline.',
      rename: 'Rename to "{{name}}".',
      catalogType:
        '"{{name}}" is a catalog metric of type {{expected}}; here it is a {{actual}}. Keep the catalog\'s type, or choose another name.',
      catalogLabels:
        '"{{name}}" is a catalog metric with labels [{{expected}}]; here they are [{{actual}}]. Keep the catalog\'s labels, or choose another name.',
      catalogDefine:
        '"{{name}}" is already defined by stacklight\'s catalog: use telemetry.{{key}} instead of defining it again.',
    },
  },

  create(context) {
    const options = (context.options[0] ?? {}) as DefinitionOptions;
    return {
      'NewExpression, CallExpression'(node: Rule.Node) {
        const site = metricDefinitionAt(node as unknown as AnyNode, options);
        if (site === undefined) return;
        const { obj, kind } = site;

        const nameProp = findProperty(obj, 'name');
        const nameNode = nameProp === undefined ? undefined : unwrap(nameProp.value as AnyNode);
        const name = staticString(nameNode);
        if (nameNode !== undefined && name === undefined) {
          context.report({ node: nameNode as unknown as Rule.Node, messageId: 'unresolvable' });
        }

        if (name !== undefined && nameNode !== undefined) {
          const violations = checkMetricName(name, kind);
          const better = kind === undefined ? undefined : suggestMetricName(name, kind);
          violations.forEach((v, i) => {
            const replacement = i === 0 ? better : undefined;
            const fix =
              replacement === undefined
                ? undefined
                : (fixer: Rule.RuleFixer) =>
                    fixer.replaceText(
                      nameNode as unknown as Rule.Node,
                      quoteLike(nameNode, replacement),
                    );
            context.report({
              node: nameNode as unknown as Rule.Node,
              messageId: 'violation',
              data: { rule: v.rule, message: v.message },
              // A name that breaks Prometheus' grammar never reached an
              // exposition (prom-client and defineMetric throw on it), so the
              // rewrite is safe to apply; any other rename changes a live
              // series name and is only offered.
              ...(fix !== undefined && v.rule === 'name-grammar' ? { fix } : {}),
              ...(fix !== undefined
                ? { suggest: [{ messageId: 'rename', data: { name: replacement! }, fix }] }
                : {}),
            });
          });

          const cat = CATALOG.get(name);
          if (cat !== undefined) {
            if (site.via === 'defineMetric') {
              context.report({
                node: nameNode as unknown as Rule.Node,
                messageId: 'catalogDefine',
                data: { name, key: CATALOG_KEYS.get(name) ?? name },
              });
            } else if (kind !== undefined && kind !== cat.type) {
              context.report({
                node: nameNode as unknown as Rule.Node,
                messageId: 'catalogType',
                data: { name, expected: cat.type, actual: kind },
              });
            }
          }
        }

        // Label names.
        const labelsProp = findProperty(obj, 'labelNames');
        if (labelsProp !== undefined) {
          const elements = staticStringArray(labelsProp.value as AnyNode);
          if (elements === undefined) {
            context.report({
              node: labelsProp.value as Rule.Node,
              messageId: 'unresolvableLabels',
            });
          } else {
            const seen = new Set<string>();
            for (const el of elements) {
              const label = staticString(el)!;
              for (const v of checkLabelName(label)) {
                const snake = toSnakeCase(label);
                const canRename =
                  v.rule === 'label-snake-case' &&
                  snake !== '' &&
                  checkLabelName(snake).length === 0;
                context.report({
                  node: el as unknown as Rule.Node,
                  messageId: 'violation',
                  data: { rule: v.rule, message: v.message },
                  ...(canRename
                    ? {
                        suggest: [
                          {
                            messageId: 'rename',
                            data: { name: snake },
                            fix: (fixer: Rule.RuleFixer) =>
                              fixer.replaceText(el as unknown as Rule.Node, quoteLike(el, snake)),
                          },
                        ],
                      }
                    : {}),
                });
              }
              if (seen.has(label)) {
                context.report({
                  node: el as unknown as Rule.Node,
                  messageId: 'violation',
                  data: {
                    rule: 'duplicate-label',
                    message: `label "${label}" is listed twice: list it once`,
                  },
                  fix: (fixer) => removeArrayElement(fixer, context, el),
                });
              }
              seen.add(label);
            }
            const cat = name === undefined ? undefined : CATALOG.get(name);
            if (cat !== undefined && site.via === 'prom-client') {
              const actual = elements.map((e) => staticString(e)!);
              const expected = [...cat.labelNames];
              if ([...actual].sort().join(',') !== [...expected].sort().join(',')) {
                context.report({
                  node: labelsProp.value as Rule.Node,
                  messageId: 'catalogLabels',
                  data: { name: name!, expected: expected.join(', '), actual: actual.join(', ') },
                });
              }
            }
          }
        }

        // The rest of a stacklight definition, where it is written inline.
        if (site.via === 'defineMetric') {
          const typeProp = findProperty(obj, 'type');
          if (typeProp !== undefined && site.typeText !== undefined && kind !== 'counter') {
            if (kind === undefined || kind === 'summary') {
              context.report({
                node: typeProp.value as Rule.Node,
                messageId: 'violation',
                data: {
                  rule: 'metric-type',
                  message:
                    kind === 'summary'
                      ? "type 'summary' is not supported: use type 'histogram' with buckets (histogram_quantile() gives the quantiles)"
                      : `type "${site.typeText}" is not a metric type: use 'counter', 'gauge' or 'histogram'`,
                },
              });
            }
          }
          const helpProp = findProperty(obj, 'help');
          const help = helpProp === undefined ? undefined : staticString(helpProp.value as AnyNode);
          if (help !== undefined && help.trim() === '') {
            context.report({
              node: helpProp!.value as Rule.Node,
              messageId: 'violation',
              data: {
                rule: 'help',
                message: 'help is empty: write one sentence saying what is counted or measured',
              },
            });
          }
          const bucketsProp = findProperty(obj, 'buckets');
          const buckets =
            bucketsProp === undefined ? undefined : staticNumberArray(bucketsProp.value as AnyNode);
          if (kind === 'histogram' && buckets !== undefined) {
            for (const v of checkBuckets(buckets)) {
              context.report({
                node: bucketsProp!.value as Rule.Node,
                messageId: 'violation',
                data: { rule: v.rule, message: v.message },
              });
            }
          }
        }
      },
    };
  },
};

function removeArrayElement(
  fixer: Rule.RuleFixer,
  context: Rule.RuleContext,
  el: AnyNode,
): Rule.Fix {
  const source = context.sourceCode;
  const before = source.getTokenBefore(el as unknown as Rule.Node);
  // `[a, b, b]` → remove ", b" (the comma before the duplicate and the element).
  if (before !== null && before.value === ',') {
    return fixer.removeRange([before.range[0], el.range![1]]);
  }
  return fixer.remove(el as unknown as Rule.Node);
}
