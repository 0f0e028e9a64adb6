/**
 * HTTP overhead benchmark: bare server, the peer stack and stacklight, for
 * Fastify and Express, interleaved and repeated in one run. The server is
 * pinned to CPU 0, autocannon (this process) to CPU 1, 10 connections.
 *
 *   node --import tsx bench/http/run.ts [--rounds 3] [--seconds 5] [--incoming none,sampled]
 *     [--frameworks fastify,express] [--configs bare,peer,stacklight,stacklight-unsampled]
 *     [--json bench/results/http.json] [--tree NAME=DIR …]
 *
 * `--tree before=/path/to/other/checkout` adds a second copy of stacklight to
 * the same run: a configuration written `stacklight@before` is served by that
 * checkout's `bench/http/servers.ts` (and so its `src/`), interleaved with
 * this one's, so a change is measured against its parent under the same
 * machine drift (the other checkout needs its own `node_modules`).
 *
 * Each configuration is measured twice: requests without a `traceparent`
 * (`none`: the edge of the system, where stacklight starts the trace and its
 * sampler decides) and with a sampled incoming `traceparent` on every request
 * (`sampled`: what Core, Workers and the AI Coach receive from Edge — every
 * request continues a sampled trace, so even `stacklight-unsampled` records
 * and exports its server span, as the parent-based sampler must).
 *
 * Reported per configuration (median of rounds, with the spread): req/s,
 * p99 latency, server CPU µs per request (from /proc/<pid>/stat); the share
 * of bare throughput and the overhead per request in µs of CPU are taken
 * against the bare server of the same round, then the median of rounds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const ROUNDS = Number(opt('rounds', '3'));
const SECONDS = Number(opt('seconds', '5'));
const FRAMEWORKS = opt('frameworks', 'fastify,express').split(',');
const CONFIGS = opt('configs', 'bare,peer,stacklight,stacklight-unsampled').split(',');
const INCOMING = opt('incoming', 'none,sampled').split(',');
/** A sampled parent from another service; every request carries the same one. */
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const CLK_TCK = 100; // Linux USER_HZ
const serverScript = fileURLToPath(new URL('./servers.ts', import.meta.url));
/** Other checkouts, by name, for `config@name` configurations. */
const trees = new Map(
  args.flatMap((a, i) => (a === '--tree' ? [args[i + 1]!.split('=') as [string, string]] : [])),
);
function serverOf(config: string): { script: string; config: string } {
  const [name, tree] = config.split('@');
  if (tree === undefined) return { script: serverScript, config };
  const dir = trees.get(tree);
  if (dir === undefined) throw new Error(`${config}: no --tree ${tree}=DIR given`);
  return { script: `${dir}/bench/http/servers.ts`, config: name! };
}

// Keep the load generator off the server's core.
try {
  spawn('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
} catch {
  // no taskset: numbers are noisier but still comparable within the run
}

/** An OTLP/HTTP receiver that accepts and discards (stacklight exports here). */
async function otlpSink(): Promise<{ url: string; close: () => void; bytes: () => number }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    close: () => server.close(),
    bytes: () => bytes,
  };
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15)
}

async function startServer(
  framework: string,
  config: string,
  port: number,
  otlp: string,
): Promise<ChildProcess> {
  const server = serverOf(config);
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      '--import',
      'tsx',
      server.script,
      framework,
      server.config,
      String(port),
      otlp,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`${framework}/${config} exited with ${code}`)));
  });
  return child;
}

function load(url: string, seconds: number, incoming: string) {
  const headers: Record<string, string> =
    incoming === 'sampled' ? { traceparent: TRACEPARENT } : {};
  return new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ url, connections: 10, duration: seconds, pipelining: 1, headers }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

interface Sample {
  rps: number;
  p99: number;
  cpuUsPerReq: number;
  errors: number;
}

async function measure(
  framework: string,
  config: string,
  port: number,
  otlp: string,
  incoming: string,
): Promise<Sample> {
  const child = await startServer(framework, config, port, otlp);
  try {
    const url = `http://127.0.0.1:${port}/users/42`;
    await load(url, 2, incoming); // warm-up: JIT, connection pools
    const before = cpuTicks(child.pid!);
    const res = await load(url, SECONDS, incoming);
    const after = cpuTicks(child.pid!);
    const requests = res.requests.total;
    return {
      rps: res.requests.average,
      p99: res.latency.p99,
      cpuUsPerReq: (((after - before) / CLK_TCK) * 1e6) / requests,
      errors: res.errors + res.non2xx,
    };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const sink = await otlpSink();
const samples = new Map<string, Sample[]>();
let port = 40100;
const runs = CONFIGS.flatMap((config) => INCOMING.map((incoming) => ({ config, incoming })));
for (let round = 0; round < ROUNDS; round++) {
  for (const framework of FRAMEWORKS) {
    // Rotate the order each round so drift (thermal, other load) spreads evenly.
    const order = runs.map((_, i) => runs[(i + round) % runs.length]!);
    for (const { config, incoming } of order) {
      const s = await measure(framework, config, port++, sink.url, incoming);
      const key = `${framework}/${config}/${incoming}`;
      samples.set(key, [...(samples.get(key) ?? []), s]);
      process.stderr.write(
        `round ${round + 1} ${key}: ${s.rps.toFixed(0)} req/s, ${s.cpuUsPerReq.toFixed(1)} µs CPU/req, p99 ${s.p99} ms\n`,
      );
    }
  }
}
sink.close();

interface Row {
  framework: string;
  config: string;
  incoming: string;
  rps: number;
  rpsSpread: number;
  shareOfBare: number;
  p99Ms: number;
  cpuUsPerReq: number;
  overheadUs: number;
  errors: number;
}

const rows: Row[] = [];
for (const framework of FRAMEWORKS) {
  for (const { config, incoming } of runs) {
    // Ratios and differences are taken round by round against the bare server
    // of the same round and the same requests (measured minutes apart at
    // most), then the median: the machine's speed drifts between rounds, and
    // pairing cancels most of it.
    const bare = samples.get(`${framework}/bare/${incoming}`);
    const paired = (xs: Sample[], f: (x: Sample, b: Sample) => number): number =>
      bare ? median(xs.map((x, i) => f(x, bare[i]!))) : NaN;
    const s = samples.get(`${framework}/${config}/${incoming}`)!;
    const rps = median(s.map((x) => x.rps));
    const cpu = median(s.map((x) => x.cpuUsPerReq));
    rows.push({
      framework,
      config,
      incoming,
      rps,
      rpsSpread: Math.max(...s.map((x) => x.rps)) - Math.min(...s.map((x) => x.rps)),
      shareOfBare: paired(s, (x, b) => x.rps / b.rps),
      p99Ms: median(s.map((x) => x.p99)),
      cpuUsPerReq: cpu,
      overheadUs: paired(s, (x, b) => x.cpuUsPerReq - b.cpuUsPerReq),
      errors: s.reduce((n, x) => n + x.errors, 0),
    });
  }
}

const table = [
  '| framework | configuration | incoming traceparent | req/s (spread) | share of bare | p99 ms | server CPU µs/req | overhead µs/req vs bare |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.framework} | ${r.config} | ${r.incoming} | ${r.rps.toFixed(0)} (±${(r.rpsSpread / 2).toFixed(0)}) | ${r.shareOfBare.toFixed(2)} | ${r.p99Ms} | ${r.cpuUsPerReq.toFixed(1)} | ${r.config === 'bare' ? '—' : r.overheadUs.toFixed(1)} |`,
  ),
].join('\n');
console.log(table);
console.log(`\nOTLP bytes received from stacklight: ${sink.bytes()}`);
const jsonAt = args.indexOf('--json');
if (jsonAt >= 0) {
  writeFileSync(
    args[jsonAt + 1]!,
    JSON.stringify(
      {
        node: process.version,
        date: new Date().toISOString(),
        rounds: ROUNDS,
        seconds: SECONDS,
        rows,
      },
      null,
      2,
    ),
  );
}
