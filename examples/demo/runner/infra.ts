/**
 * What the demo starts around the services: free ports, Redis (the one on
 * REDIS_URL, else a local redis-server), the PostgreSQL check, a mock broker
 * that sometimes answers 429 (and a mock S3), and Prometheus.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { openSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a Redis answers PING on `url` within `timeoutMs`. */
export function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return resolve(false);
    }
    const socket = connect(Number(parsed.port || 6379), parsed.hostname);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** The path of `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Starts `redis-server` on a free loopback port, without persistence. */
export async function startRedis(
  binary: string,
  logFile: string,
): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', log, log],
      detached: true,
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await redisAnswers(url, 200)); i++) await sleep(100);
  if (!(await redisAnswers(url)))
    throw new Error(`redis-server did not answer on ${url} (log: ${logFile})`);
  return { url, process: child };
}

/** Whether PostgreSQL answers a query on `url` within a second. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The vendors' APIs, mocked. The broker: `GET /api/v3/myTrades?symbol&page`
 * gives 50 trades after 20–60 ms, or a 429 with `Retry-After: 1` at
 * `rate429`. S3: `PUT /digests/<key>` stores nothing and answers 200, except
 * every other request, which gets 503 SlowDown (S3 throttling a new prefix).
 */
export async function startBroker(rate429: number): Promise<{ url: string; server: Server }> {
  let puts = 0;
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://broker');
    if (req.method === 'PUT' && url.pathname.startsWith('/digests/')) {
      req.resume();
      return void req.on('end', () =>
        ++puts % 2 === 1
          ? res.writeHead(503).end('<Error><Code>SlowDown</Code></Error>')
          : res.writeHead(200).end(),
      );
    }
    if (url.pathname !== '/api/v3/myTrades') return void res.writeHead(404).end();
    if (Math.random() < rate429)
      return void res.writeHead(429, { 'retry-after': '1' }).end('{"code":-1003}');
    const symbol = url.searchParams.get('symbol') ?? 'BTCUSDT';
    const page = Number(url.searchParams.get('page') ?? 1);
    const trades = Array.from({ length: 50 }, (_, i) => ({
      id: `${symbol}-${page}-${i}`,
      symbol,
      side: i % 2 === 0 ? 'buy' : 'sell',
      price: 100 + Math.random() * 100,
      qty: 1 + Math.floor(Math.random() * 40),
    }));
    setTimeout(
      () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(trades)),
      20 + Math.random() * 40,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** One scrape target of Prometheus. */
export interface Target {
  service: string;
  url: string;
}

/**
 * Starts Prometheus on loopback scraping every target every 2 s. `job` is a
 * label of the job metrics (`job_duration_ms{job="import"}`): with
 * `honor_labels: true` Prometheus keeps it instead of renaming it
 * `exported_job`, so the spec's PromQL works as written. Rule files of
 * `rulesDir` (*.yml, *.yaml) are loaded and evaluated every 2 s.
 */
export async function startPrometheus(
  binary: string,
  dir: string,
  targets: readonly Target[],
  rulesDir: string | undefined,
): Promise<{ url: string; process: ChildProcess; ruleFiles: string[] }> {
  mkdirSync(dir, { recursive: true });
  const ruleFiles =
    rulesDir === undefined
      ? []
      : readdirSync(rulesDir)
          .filter((f) => /\.ya?ml$/.test(f))
          // Absolute: Prometheus reads rule_files relative to its config file's folder.
          .map((f) => resolve(rulesDir, f));
  const jobs = targets.map((t) => {
    const url = new URL(t.url);
    return [
      `  - job_name: ${JSON.stringify(t.service)}`,
      '    honor_labels: true',
      `    metrics_path: ${JSON.stringify(url.pathname)}`,
      `    static_configs: [{ targets: [${JSON.stringify(url.host)}] }]`,
    ].join('\n');
  });
  const config = [
    'global: { scrape_interval: 2s, evaluation_interval: 2s }',
    `rule_files: ${JSON.stringify(ruleFiles)}`,
    'scrape_configs:',
    ...jobs,
    '',
  ].join('\n');
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, config);
  const port = await freePort();
  const log = openSync(join(dir, 'prometheus.log'), 'a');
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', log, log], detached: true },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, process: child, ruleFiles };
    await sleep(200);
  }
  child.kill();
  throw new Error(`prometheus did not become ready (log: ${join(dir, 'prometheus.log')})`);
}
