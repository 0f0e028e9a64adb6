import { scrapeConfig } from '../slo/scrape-config.js';
import { guarded, parseArgs, UsageError } from './args.js';

/** Usage of `stacklight scrape-config`. */
export const USAGE =
  'usage: stacklight scrape-config --targets HOST:PORT[,HOST:PORT…] [--job NAME] [--interval 15s]\n' +
  '                                [--metrics-path /metrics] [--token-file FILE] [--rules GLOB]\n' +
  '  Prints the Prometheus scrape configuration the stacklight metrics need (honor_labels).\n';

/** `stacklight scrape-config`: prints the YAML to stdout. */
export async function run(argv: readonly string[]): Promise<number> {
  return guarded('scrape-config', async () => {
    const args = parseArgs(
      argv,
      ['--targets', '--job', '--interval', '--metrics-path', '--token-file', '--rules'],
      ['--help'],
    );
    if (args.flags.has('--help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    const targets = args.values.get('--targets');
    if (targets === undefined) throw new UsageError(`--targets is required\n${USAGE}`);
    const v = (k: string) => args.values.get(k);
    process.stdout.write(
      scrapeConfig({
        targets: targets.split(',').map((t) => t.trim()),
        ...(v('--job') === undefined ? {} : { jobName: v('--job')! }),
        ...(v('--interval') === undefined ? {} : { interval: v('--interval')! }),
        ...(v('--metrics-path') === undefined ? {} : { metricsPath: v('--metrics-path')! }),
        ...(v('--token-file') === undefined ? {} : { tokenFile: v('--token-file')! }),
        ...(v('--rules') === undefined ? {} : { rules: v('--rules')! }),
      }),
    );
    return 0;
  });
}
