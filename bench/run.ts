/**
 * `npm run bench`: every benchmark in one run, under ten minutes, with the
 * results as JSON in bench/results/ and as tables on stdout (and, with
 * --docs, in docs/performance.md between its generated markers).
 *
 *   1. micro-benchmarks of the hot paths vs their bare counterparts (bench/micro.ts)
 *   2. a log line vs bare pino (bench/logging.bench.ts)
 *   3. HTTP overhead: bare, peer stack, stacklight, Fastify and Express (bench/http/run.ts)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const results = `${root}bench/results`;
mkdirSync(results, { recursive: true });
const quick = process.argv.includes('--quick');

function run(title: string, args: string[]): string {
  process.stderr.write(`\n== ${title}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (r.status !== 0) throw new Error(`${title} failed with status ${r.status}`);
  process.stderr.write(`(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  process.stdout.write(`\n### ${title}\n\n${r.stdout}\n`);
  return r.stdout;
}

const sections: string[] = [];
sections.push(
  run('Hot paths vs bare counterparts', ['bench/micro.ts', '--json', `${results}/micro.json`]),
);
const logging = run('Log line vs bare pino', ['bench/logging.bench.ts']);
writeFileSync(
  `${results}/logging.json`,
  JSON.stringify(
    { node: process.version, date: new Date().toISOString(), output: logging },
    null,
    2,
  ),
);
sections.push(logging);
sections.push(
  run('HTTP overhead (server on CPU 0, autocannon on CPU 1, 10 connections)', [
    'bench/http/run.ts',
    '--rounds',
    quick ? '1' : '3',
    '--seconds',
    quick ? '3' : '5',
    '--json',
    `${results}/http.json`,
  ]),
);

if (process.argv.includes('--docs')) {
  const page = `${root}docs/performance.md`;
  const text = readFileSync(page, 'utf8');
  const block = `<!-- bench:results -->\n${sections.join('\n')}\n<!-- /bench:results -->`;
  writeFileSync(page, text.replace(/<!-- bench:results -->[\s\S]*<!-- \/bench:results -->/, block));
  process.stderr.write('docs/performance.md updated\n');
}
