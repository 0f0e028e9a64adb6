import { generateRules } from '../slo/rules.js';
import { generatorOptions, guarded, parseArgs, UsageError, writeFiles } from './args.js';

/** Usage of `stacklight rules`. */
export const USAGE =
  'usage: stacklight rules --out DIR [--docs-base URL] [--config FILE]\n' +
  '  Writes Prometheus rule files (SLI recording rules, SLO burn-rate alerts, the spec alerts).\n';

/**
 * `stacklight rules --out DIR`: writes `sli.rules.yml`, one
 * `slo-<name>.rules.yml` per SLO and `product-alerts.rules.yml`.
 */
export async function run(argv: readonly string[]): Promise<number> {
  return guarded('rules', async () => {
    const args = parseArgs(argv, ['--out', '--docs-base', '--config'], ['--help']);
    if (args.flags.has('--help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    const out = args.values.get('--out');
    if (out === undefined) throw new UsageError(`--out is required\n${USAGE}`);
    writeFiles(out, generateRules(await generatorOptions(args)));
    return 0;
  });
}
