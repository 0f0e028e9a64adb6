#!/usr/bin/env node
/**
 * The `stacklight` command: the catalog, `doctor`, the /metrics checker, and
 * the generators of Prometheus rules, Grafana dashboards, scrape
 * configuration and probes. Each subcommand lives in `cli/<name>.ts`.
 */
import { run as catalog } from './cli/catalog.js';
import { run as doctor } from './cli/doctor.js';
import { SDK_VERSION } from './version.js';

// `stacklight catalog | head -1`: a closed pipe ends the command quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

async function main(argv: readonly string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'check-metrics':
      return (await import('./cli/check-metrics.js')).run(argv.slice(1));
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${SDK_VERSION}\n`);
      return 0;
    case 'catalog':
      return catalog(argv.slice(1));
    case 'doctor':
      return doctor(argv.slice(1));
    case 'rules':
      return (await import('./cli/rules.js')).run(argv.slice(1));
    case 'dashboards':
      return (await import('./cli/dashboards.js')).run(argv.slice(1));
    case 'scrape-config':
      return (await import('./cli/scrape-config.js')).run(argv.slice(1));
    case 'probe':
      return (await import('./cli/probe.js')).run(argv.slice(1));
    case 'slo':
      return (await import('./cli/slo.js')).run(argv.slice(1));
    case 'log-schema':
      return (await import('./cli/log-schema.js')).run(argv.slice(1));
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(
        'usage: stacklight <command>\n\n' +
          'commands:\n' +
          '  catalog     list every metric stacklight defines (name, type, labels, help); --json\n' +
          '  check-metrics <url|file|->  check a /metrics exposition: naming, catalog, service label, cardinality\n' +
          '  doctor      resolved configuration and its sources, peers, API copies, modes, OTLP reachability\n' +
          "  log-schema  print the log line's JSON Schema with the service's own fields (--config, --fields)\n" +
          '  rules       write Prometheus rule files (SLIs, SLO burn-rate alerts, spec alerts)\n' +
          '  dashboards  write the Grafana dashboards as JSON\n' +
          '  scrape-config  print the Prometheus scrape configuration (honor_labels)\n' +
          '  probe       run synthetic probes (probe_success, probe_duration_seconds)\n' +
          '  slo status  SLIs and error budgets from Prometheus; non-zero when one is spent\n' +
          '  version     print the stacklight version\n',
      );
      return 0;
    default:
      process.stderr.write(`stacklight: unknown command "${command}"; run "stacklight help"\n`);
      return 2;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
