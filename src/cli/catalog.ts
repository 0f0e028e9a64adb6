import { allMetricDefinitions } from '../metrics/catalog.js';

/**
 * `stacklight catalog [--json]`: every metric stacklight defines, as
 * tab-separated lines (name, type, labels, help) or one JSON array.
 */
export async function run(argv: readonly string[]): Promise<number> {
  const defs = allMetricDefinitions();
  if (argv.includes('--json')) {
    const out = defs.map((m) => ({
      name: m.name,
      type: m.type,
      help: m.help,
      labelNames: [...m.labelNames],
      ...('buckets' in m && m.buckets !== undefined ? { buckets: [...m.buckets] } : {}),
    }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  for (const m of defs) {
    process.stdout.write(`${m.name}\t${m.type}\t${m.labelNames.join(',')}\t${m.help}\n`);
  }
  return 0;
}
