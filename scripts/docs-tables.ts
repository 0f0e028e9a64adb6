/**
 * Tables generated from the catalogs, written into docs/*.md between
 * `<!-- generated:NAME -->` and `<!-- /generated:NAME -->` markers.
 * `npm run docs` rewrites them; a test fails when a page is stale.
 */
import { format, resolveConfig } from 'prettier';
import {
  SETTINGS,
  UNIMPLEMENTED_OTEL_EXAMPLES,
  implementedOtelVariables,
  type Setting,
} from '../src/config/settings.js';
import {
  METRIC_CATALOG,
  METRIC_FAMILIES,
  SELF_METRIC_CATALOG,
  type MetricDefinition,
  type MetricFamily,
} from '../src/metrics/catalog.js';
import { LOG_FIELDS, type LogFieldSpec } from '../src/logging/schema.js';
import { DEFAULT_SECRET_KEYS, SECRET_SUFFIXES } from '../src/logging/secret-keys.js';

const code = (s: string): string => `\`${s}\``;

function defaultText(s: Setting<unknown>): string {
  if (s.defaultDoc !== undefined) return s.defaultDoc;
  if (typeof s.default === 'function') return '(computed)';
  if (s.default === undefined) return '(unset)';
  if (Array.isArray(s.default) && s.default.length === 0) return '(none)';
  if (typeof s.default === 'object' && s.default !== null && Object.keys(s.default).length === 0)
    return '(none)';
  return code(JSON.stringify(s.default));
}

function configTable(): string {
  const rows = (SETTINGS as readonly Setting<unknown>[]).map((s) => {
    const vars = [
      ...(s.standard ?? []).map((e) => e.name),
      ...(s.stacklight ? [s.stacklight] : []),
    ];
    return `| ${code(s.option)} | ${vars.length ? vars.map(code).join(', ') : '—'} | ${defaultText(s)} | ${s.kind.allowed} |`;
  });
  return [
    '| option | environment (highest first) | default | allowed |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function metricRows(defs: readonly MetricDefinition[]): string {
  const rows = defs.map((d) => {
    const labels = ['service', ...d.labelNames].map(code).join(', ');
    const buckets = d.buckets ? d.buckets.join(', ') : '—';
    return `| ${code(d.name)} | ${d.type} | ${labels} | ${d.unit ?? ''} | ${buckets} | ${d.help} |`;
  });
  return [
    '| name | type | labels | unit | buckets | help |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The helpers whose creation registers a family (see `useMetricFamily` calls in src/). */
const FAMILY_HELPERS: Record<MetricFamily, string> = {
  jobs: '`instrumentQueue`, `instrumentFlowProducer`, `instrumentProcessor`, `instrumentWorker`, `monitorQueueDepth` (`stacklight/bullmq`)',
  events: '`createOutbox`, `createEventDelivery`',
  vendor: '`createVendorClient`',
  ai: '`createAiCoachClient`',
  ws: '`instrumentWebSocketServer`, `trackWebSocket`',
  sse: '`subscribeToEvents`',
  digest: '`createDigestRecorder`',
};

function familiesTable(): string {
  const rows = (Object.keys(METRIC_FAMILIES) as MetricFamily[]).map((f) => {
    const names = METRIC_FAMILIES[f].map((k) => code(METRIC_CATALOG[k].name)).join(', ');
    return `| ${code(f)} | ${names} | ${FAMILY_HELPERS[f]} |`;
  });
  return [
    '| family | metrics | appears when one of these is created |',
    '|---|---|---|',
    ...rows,
  ].join('\n');
}

const SOURCE_TEXT: Record<LogFieldSpec['source'], string> = {
  logger: 'logger',
  context: 'request / job context',
  trace: 'active span',
  caller: 'caller',
};

/** A markdown table cell: `|` escaped, so a description cannot break the table. */
const cell = (s: string): string => s.replace(/\|/g, '\\|');

function logFieldsTable(): string {
  const rows = Object.entries(LOG_FIELDS as Record<string, LogFieldSpec>).map(([name, f]) => {
    const type = f.enum
      ? f.enum.map(code).join(' ')
      : f.pattern
        ? `${f.type} ${code(f.pattern)}`
        : f.type;
    return `| ${code(name)} | ${cell(type)} | ${f.required ? 'yes' : 'no'} | ${SOURCE_TEXT[f.source]} | ${cell(f.description)} |`;
  });
  return [
    '| field | type | required | set by | description |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** The `OTEL_*` variables stacklight reads, and those it warns about. */
function otelVariables(): string {
  const implemented = [...implementedOtelVariables()].sort().map(code).join(', ');
  const warned = [...UNIMPLEMENTED_OTEL_EXAMPLES].map(code).join(', ');
  return [
    `Implemented: ${implemented}.`,
    '',
    `Warned about at \`init()\` (named in one warning, then ignored) — any other \`OTEL_*\` variable, among them: ${warned}.`,
  ].join('\n');
}

/** Every generated block, by marker name. */
export const GENERATED: Record<string, () => string> = {
  'config-table': configTable,
  'otel-variables': otelVariables,
  'metrics-catalog': () => metricRows(Object.values(METRIC_CATALOG)),
  'self-metrics': () => metricRows(Object.values(SELF_METRIC_CATALOG)),
  'metric-families': familiesTable,
  'log-fields': logFieldsTable,
  'secret-keys': () =>
    `Keys (after lowercasing and removing \`-\`, \`_\`, \`.\` and spaces; \`connect.sid\` is \`connectsid\`): ${DEFAULT_SECRET_KEYS.map(code).join(', ')}.\n\n` +
    `Words that make any key secret when it ends with them: ${SECRET_SUFFIXES.map(code).join(', ')}.`,
};

/** Replaces every known generated block of a page; unknown markers are an error. */
export function renderPage(page: string): string {
  return page.replace(
    /<!-- generated:([a-z-]+) -->\n[\s\S]*?<!-- \/generated:\1 -->/g,
    (_all, name: string) => {
      const gen = GENERATED[name];
      if (!gen) throw new Error(`unknown generated block "${name}"`);
      return `<!-- generated:${name} -->\n${gen()}\n<!-- /generated:${name} -->`;
    },
  );
}

/** `renderPage`, then Prettier with the repo's config, as `npm run format` would leave it. */
export async function renderPageFormatted(page: string, filepath: string): Promise<string> {
  const options = (await resolveConfig(filepath)) ?? {};
  return format(renderPage(page), { ...options, filepath });
}
