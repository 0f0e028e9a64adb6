import { formatSloStatus, sloStatus } from '../slo/status.js';
import { specSlos } from '../slo/spec.js';
import { generatorOptions, guarded, parseArgs, UsageError } from './args.js';

/** Usage of `stacklight slo`. */
export const USAGE =
  'usage: stacklight slo status --prometheus URL [--config FILE]\n' +
  "  Prints each SLO objective's SLI and remaining error budget from a Prometheus that loads\n" +
  '  the stacklight rules; exits 1 when a budget is exhausted or a probe fails.\n';

/** `stacklight slo status`. */
export async function run(argv: readonly string[]): Promise<number> {
  return guarded('slo', async () => {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === undefined) {
      process.stdout.write(USAGE);
      return sub === undefined ? 2 : 0;
    }
    if (sub !== 'status') throw new UsageError(`unknown subcommand "${sub}"\n${USAGE}`);
    const args = parseArgs(rest, ['--prometheus', '--config']);
    const prometheus = args.values.get('--prometheus');
    if (prometheus === undefined) throw new UsageError(`--prometheus is required\n${USAGE}`);
    const options = await generatorOptions(args);
    const report = await sloStatus(prometheus, options.slos ?? specSlos(options));
    process.stdout.write(formatSloStatus(report));
    return report.pass ? 0 : 1;
  });
}
