import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { init } from '../init.js';
import { createProbeRunner, type ProbeRunnerOptions } from '../slo/probes.js';
import { guarded, parseArgs, UsageError } from './args.js';

/** Usage of `stacklight probe`. */
export const USAGE =
  'usage: stacklight probe --config FILE [--once] [--port 9465] [--interval-ms 30000]\n' +
  '  Runs synthetic probes (FILE default-exports { probes: [...] }), exports probe_success and\n' +
  '  probe_duration_seconds on /metrics, logs each result. --once runs one round and exits\n' +
  '  non-zero when a probe failed.\n';

/** `stacklight probe`. */
export async function run(argv: readonly string[]): Promise<number> {
  return guarded('probe', async () => {
    const args = parseArgs(argv, ['--config', '--port', '--interval-ms'], ['--once', '--help']);
    if (args.flags.has('--help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    const config = args.values.get('--config');
    if (config === undefined) throw new UsageError(`--config is required\n${USAGE}`);
    const path = isAbsolute(config) ? config : resolve(process.cwd(), config);
    const mod = (await import(pathToFileURL(path).href)) as { default?: ProbeRunnerOptions };
    if (mod.default === undefined || !Array.isArray(mod.default.probes))
      throw new UsageError(`--config ${config} must export default { probes: [...] }`);
    const once = args.flags.has('--once');
    const port = Number(args.values.get('--port') ?? (once ? '0' : '9465'));
    const intervalText = args.values.get('--interval-ms');
    const telemetry = init({
      service: 'prober',
      metrics: { defaultMetrics: false, ...(once ? {} : { port }) },
      tracing: { enabled: false },
    });
    const runner = createProbeRunner(telemetry, {
      ...mod.default,
      ...(intervalText === undefined ? {} : { intervalMs: Number(intervalText) }),
    });
    if (once) {
      const results = await runner.runOnce();
      for (const r of results)
        process.stdout.write(
          `${r.success ? 'ok  ' : 'FAIL'} ${r.probe} ${r.durationMs.toFixed(0)} ms trace ${r.traceId}${r.reason === undefined ? '' : ` (${r.reason})`}\n`,
        );
      await telemetry.shutdown();
      return results.every((r) => r.success) ? 0 : 1;
    }
    runner.start();
    await new Promise<void>((done) => {
      const stop = () => {
        void runner
          .stop()
          .then(() => telemetry.shutdown())
          .then(done);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  });
}
