/**
 * The ESLint plugin (`stacklight/eslint-plugin`): stacklight's naming and
 * field rules where the author writes code. Flat config only (ESLint 9 and
 * 10). Nothing here imports ESLint at run time.
 */
import type { ESLint, Linter, Rule } from 'eslint';
import { SDK_VERSION } from '../version.js';
import { catalogLabels } from './catalog-labels.js';
import { logFields } from './log-fields.js';
import { metricName } from './metric-name.js';
import { noHighCardinalityLabels } from './no-high-cardinality-labels.js';

/** The rules, by name (without the `stacklight/` prefix). */
export const rules: Readonly<Record<string, Rule.RuleModule>> = Object.freeze({
  'metric-name': metricName,
  'no-high-cardinality-labels': noHighCardinalityLabels,
  'log-fields': logFields,
  'catalog-labels': catalogLabels,
});

/** The plugin object. */
export const plugin: ESLint.Plugin & { configs: { recommended: Linter.Config[] } } = {
  meta: { name: 'stacklight/eslint-plugin', version: SDK_VERSION },
  rules: { ...rules },
  configs: { recommended: [] },
};

/**
 * Every rule as an error. `catalog-labels` applies to JavaScript files only:
 * in TypeScript the instruments' types already check label names. Spread it
 * into a flat config: `export default [...stacklight.configs.recommended]`.
 */
plugin.configs.recommended = [
  {
    name: 'stacklight/recommended',
    plugins: { stacklight: plugin },
    rules: {
      'stacklight/metric-name': 'error',
      'stacklight/no-high-cardinality-labels': 'error',
      'stacklight/log-fields': 'error',
    },
  },
  {
    name: 'stacklight/recommended/javascript',
    files: ['**/*.js', '**/*.cjs', '**/*.mjs', '**/*.jsx'],
    plugins: { stacklight: plugin },
    rules: { 'stacklight/catalog-labels': 'error' },
  },
];

/** `configs.recommended` and friends. */
export const configs = plugin.configs;
