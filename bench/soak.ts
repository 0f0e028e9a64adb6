/**
 * `npm run bench:soak`: holds load on a stacklight-instrumented Fastify
 * server (metrics, one log line and one exported span per request, the OTLP
 * receiver accepting and discarding) and reports the heap after a full GC at
 * the end of the warm-up and every minute after it. Flat means no leak.
 * Not part of `npm run bench` (it runs 10 minutes by default).
 *
 *   node --import tsx bench/soak.ts [--minutes 10] [--framework fastify|express]
 *
 * Writes bench/results/soak.json (Fastify) or soak-express.json.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const MINUTES = Number(opt('minutes', '10'));
const FRAMEWORK = opt('framework', 'fastify');

const sink = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
const otlp = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;

const port = 40700;
const server = fork(
  fileURLToPath(new URL('./http/servers.ts', import.meta.url)),
  [FRAMEWORK, 'stacklight', String(port), otlp],
  {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  },
);
await new Promise<void>((resolve) =>
  server.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve()),
);

const heap = (): Promise<number> =>
  new Promise((resolve) => {
    server.once('message', (m: { heapUsed: number }) => resolve(m.heapUsed));
    server.send('heap');
  });
const load = (seconds: number) =>
  new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      { url: `http://127.0.0.1:${port}/users/42`, connections: 10, duration: seconds },
      (e, r) => (e ? reject(e) : resolve(r)),
    ),
  );

await load(30); // warm-up
const samples: { minute: number; heapMb: number; rps: number }[] = [
  { minute: 0, heapMb: (await heap()) / 2 ** 20, rps: 0 },
];
console.log(`warm-up done: heap ${samples[0]!.heapMb.toFixed(1)} MB`);
for (let m = 1; m <= MINUTES; m++) {
  const r = await load(60);
  const mb = (await heap()) / 2 ** 20;
  samples.push({ minute: m, heapMb: mb, rps: r.requests.average });
  console.log(
    `minute ${m}: ${r.requests.average.toFixed(0)} req/s, heap ${mb.toFixed(1)} MB, errors ${r.errors + r.non2xx}`,
  );
}
server.kill('SIGKILL');
sink.close();
const growth = samples[samples.length - 1]!.heapMb - samples[0]!.heapMb;
console.log(
  `heap after warm-up ${samples[0]!.heapMb.toFixed(1)} MB, at the end ${samples[samples.length - 1]!.heapMb.toFixed(1)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB)`,
);
writeFileSync(
  fileURLToPath(
    new URL(
      FRAMEWORK === 'fastify' ? './results/soak.json' : `./results/soak-${FRAMEWORK}.json`,
      import.meta.url,
    ),
  ),
  JSON.stringify(
    { node: process.version, date: new Date().toISOString(), framework: FRAMEWORK, samples },
    null,
    2,
  ),
);
