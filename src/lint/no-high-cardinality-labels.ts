/**
 * `stacklight/no-high-cardinality-labels`: label names that hold identifiers
 * or free text (one series per user, request, URL, …) are not declared on
 * metrics. The list is `HIGH_CARDINALITY_LABELS` of `metrics/rules.ts`, the
 * one `stacklight check-metrics` reports from too.
 */
import type { Rule } from 'eslint';
import { HIGH_CARDINALITY_LABELS, normalizeLabelKey } from '../metrics/rules.js';
import { findProperty, staticString, staticStringArray, type AnyNode } from './ast.js';
import { DEFINERS_SCHEMA, metricDefinitionAt, type DefinitionOptions } from './metric-calls.js';

interface Options extends DefinitionOptions {
  /** More label names to refuse (compared like the built-in list: case, `_` and `-` ignored). */
  labels?: string[];
  /** Label names to accept although the list has them (a bounded `path` enum, say). */
  allow?: string[];
}

/** What to use instead, for the commonest offenders. */
const ADVICE: Readonly<Record<string, string>> = Object.freeze({
  path: 'label by the route template (route="/users/:id"), never the raw path',
  url: 'label by the route template or the remote service name, never the URL',
  uri: 'label by the route template or the remote service name, never the URI',
  email: 'never put an e-mail address in a metric; keep userId in logs instead',
  ip: 'keep client addresses in logs or span attributes',
});

/** `stacklight/no-high-cardinality-labels`. */
export const noHighCardinalityLabels: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Metric labels hold small, fixed sets of values; identifiers and free text belong in logs and spans',
    },
    schema: [
      {
        type: 'object',
        properties: {
          definers: DEFINERS_SCHEMA,
          labels: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          allow: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      highCardinality:
        'Label "{{label}}" holds identifiers or free text, one series per value (memory and cost grow without bound): {{advice}}.',
    },
  },

  create(context) {
    const options = (context.options[0] ?? {}) as Options;
    const allow = new Set((options.allow ?? []).map(normalizeLabelKey));
    const refuse = new Set(
      [...HIGH_CARDINALITY_LABELS, ...(options.labels ?? [])]
        .map(normalizeLabelKey)
        .filter((l) => !allow.has(l)),
    );
    return {
      'NewExpression, CallExpression'(node: Rule.Node) {
        const site = metricDefinitionAt(node as unknown as AnyNode, options);
        if (site === undefined) return;
        const labelsProp = findProperty(site.obj, 'labelNames');
        if (labelsProp === undefined) return;
        // A non-literal list is reported by metric-name; nothing to read here.
        for (const el of staticStringArray(labelsProp.value as AnyNode) ?? []) {
          const label = staticString(el)!;
          const key = normalizeLabelKey(label);
          if (!refuse.has(key)) continue;
          context.report({
            node: el as unknown as Rule.Node,
            messageId: 'highCardinality',
            data: {
              label,
              advice:
                ADVICE[key] ??
                'keep it in log lines or span attributes, and label by a bounded category instead',
            },
          });
        }
      },
    };
  },
};
