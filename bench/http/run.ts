/**
 * HTTP overhead benchmark: bare server, the peer stack and stacklight, for
 * Fastify and Express, interleaved and repeated in one run. The server is
 * pinned to CPU 0, autocannon (this process) to CPU 1, 10 connections.
 *
 *   node --import tsx bench/http/run.ts [--rounds 3] [--seconds 5] [--json bench/results/http.json]
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
const CLK_TCK = 100; // Linux USER_HZ
const serverScript = fileURLToPath(new URL('./servers.ts', import.meta.url));

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
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      '--import',
      'tsx',
      serverScript,
      framework,
      config,
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

function load(url: string, seconds: number) {
  return new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ url, connections: 10, duration: seconds, pipelining: 1 }, (err, res) =>
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
): Promise<Sample> {
  const child = await startServer(framework, config, port, otlp);
  try {
    const url = `http://127.0.0.1:${port}/users/42`;
    await load(url, 2); // warm-up: JIT, connection pools
    const before = cpuTicks(child.pid!);
    const res = await load(url, SECONDS);
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
for (let round = 0; round < ROUNDS; round++) {
  for (const framework of FRAMEWORKS) {
    // Rotate the order each round so drift (thermal, other load) spreads evenly.
    const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length]!);
    for (const config of order) {
      const s = await measure(framework, config, port++, sink.url);
      const key = `${framework}/${config}`;
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
  // Ratios and differences are taken round by round against the bare server
  // of the same round (measured minutes apart at most), then the median: the
  // machine's speed drifts between rounds, and pairing cancels most of it.
  const bare = samples.get(`${framework}/bare`);
  const paired = (xs: Sample[], f: (x: Sample, b: Sample) => number): number =>
    bare ? median(xs.map((x, i) => f(x, bare[i]!))) : NaN;
  for (const config of CONFIGS) {
    const s = samples.get(`${framework}/${config}`)!;
    const rps = median(s.map((x) => x.rps));
    const cpu = median(s.map((x) => x.cpuUsPerReq));
    rows.push({
      framework,
      config,
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
  '| framework | configuration | req/s (spread) | share of bare | p99 ms | server CPU µs/req | overhead µs/req vs bare |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.framework} | ${r.config} | ${r.rps.toFixed(0)} (±${(r.rpsSpread / 2).toFixed(0)}) | ${r.shareOfBare.toFixed(2)} | ${r.p99Ms} | ${r.cpuUsPerReq.toFixed(1)} | ${r.config === 'bare' ? '—' : r.overheadUs.toFixed(1)} |`,
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
