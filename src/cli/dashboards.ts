import { generateDashboards } from '../slo/dashboards.js';
import { generatorOptions, guarded, parseArgs, UsageError, writeFiles } from './args.js';

/** Usage of `stacklight dashboards`. */
export const USAGE =
  'usage: stacklight dashboards --out DIR [--config FILE]\n' +
  '  Writes the Grafana dashboards (User Journey, Core & Workers, AI Coach, Infra) as JSON.\n';

/** `stacklight dashboards --out DIR`. */
export async function run(argv: readonly string[]): Promise<number> {
  return guarded('dashboards', async () => {
    const args = parseArgs(argv, ['--out', '--config'], ['--help']);
    if (args.flags.has('--help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    const out = args.values.get('--out');
    if (out === undefined) throw new UsageError(`--out is required\n${USAGE}`);
    writeFiles(out, generateDashboards(await generatorOptions(args)));
    return 0;
  });
}
