/**
 * The demo's services (examples/demo) as the tests' system under test: AI
 * Coach, Core, Workers and Edge, each in its own process with its own
 * `init()`, on ports the system picks (PORT=0, announced over IPC), BullMQ
 * on the Redis at 127.0.0.1:6379 under a key prefix of their own, the mock
 * broker in this process, and optionally the demo's Web traffic. Edge
 * reaches Core through a TCP relay in this process, so that a test can cut
 * the connections between them (a network blip, a load balancer's reset).
 *
 * `stop()` ends every child (SIGTERM, then SIGKILL) and deletes the run's
 * Redis keys; call it in afterAll, it is safe after a failed start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { startBroker } from '../../examples/demo/runner/infra.js';
import { demoEnv, ROOT } from '../demo/helpers.js';

export const DEMO_REDIS = { host: '127.0.0.1', port: 6379 } as const;

export interface DemoStackOptions {
  /** OTLP/HTTP traces endpoint of every service; none: tracing exports nothing. */
  otlpEndpoint?: string;
  /** Extra environment per service (`AI_ERROR_RATE`, `AI_LATENCY_MS`, …). */
  env?: Partial<Record<DemoService, Record<string, string>>>;
  /** Share of broker pages answered 429 (the demo's --broker-429). */
  broker429?: number;
  /** Starts the demo's Web process with this many simulated users. */
  users?: number;
  /** Bounds each service's start (a hang guard). */
  startTimeoutMs?: number;
}

export type DemoService = 'ai-coach' | 'core' | 'workers' | 'edge' | 'web';

export interface DemoStack {
  /** Base URLs: edge, core, ai-coach (HTTP), broker. */
  readonly urls: { edge: string; core: string; ai: string; broker: string };
  /** `/metrics` of each service, by name. */
  readonly metrics: Record<'edge' | 'core' | 'workers' | 'ai-coach', string>;
  /** BullMQ key prefix of this run. */
  readonly prefix: string;
  /** Resets every open connection from Edge to Core (the SSE stream included); returns how many. */
  cutEdgeToCore(): number;
  /** The last output of a service (its log lines), for failure messages. */
  output(service: DemoService): string;
  stop(): Promise<void>;
}

interface Child {
  name: DemoService;
  process: ChildProcess;
  out: string;
}

const url = (port: number) => `http://127.0.0.1:${port}`;

/**
 * Starts the stack in dependency order (AI Coach, then Core, then Workers
 * and Edge, then Web). On any failure the part already started is stopped
 * before the error is thrown.
 */
export async function startDemoStack(options: DemoStackOptions = {}): Promise<DemoStack> {
  const prefix = `sl-e2e-${randomUUID().slice(0, 8)}`;
  const children: Child[] = [];
  let broker: Server | undefined;
  let relay: Relay | undefined;
  const timeoutMs = options.startTimeoutMs ?? 90_000;

  const tracing: Record<string, string> = options.otlpEndpoint
    ? {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: options.otlpEndpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      }
    : { OTEL_TRACES_EXPORTER: 'none' };
  const base = {
    ...tracing,
    STACKLIGHT_ENV: 'e2e',
    REDIS_URL: `redis://${DEMO_REDIS.host}:${DEMO_REDIS.port}`,
    BULLMQ_PREFIX: prefix,
  };

  /** Starts examples/demo/<file>; resolves with the port it announces (web: when its users start). */
  const start = (name: DemoService, file: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/demo/${file}`], {
      cwd: ROOT,
      env: demoEnv({ ...base, ...env, ...options.env?.[name] }),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const entry: Child = { name, process: child, out: '' };
    children.push(entry);
    const keep = (chunk: Buffer) => (entry.out = (entry.out + chunk.toString()).slice(-20_000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${entry.out}`)),
        timeoutMs,
      );
      child.on('message', (m: { type?: string; port?: number }) => {
        if (m.type === 'listening' || m.type === 'web-ready') {
          clearTimeout(timer);
          resolve(m.port ?? 0);
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (${code ?? signal}) during start:\n${entry.out}`));
      });
    });
  };

  const stop = async () => {
    await Promise.all(children.reverse().map((c) => end(c.process)));
    broker?.close();
    relay?.close();
    await removeKeys(prefix);
  };
  // A crashed test runner must not leave services behind.
  const onExit = () => children.forEach((c) => c.process.kill('SIGKILL'));
  process.once('exit', onExit);

  try {
    const b = await startBroker(options.broker429 ?? 0);
    broker = b.server;
    const ai = url(await start('ai-coach', 'ai-coach.ts', { PORT: '0', AI_LATENCY_MS: '50' }));
    const core = url(
      await start('core', 'core.ts', { PORT: '0', AI_COACH_URL: ai, DEMO_RUN: prefix }),
    );
    const [workersPort, edgePort] = await Promise.all([
      start('workers', 'workers.ts', {
        STACKLIGHT_METRICS_PORT: '0',
        STACKLIGHT_METRICS_HOST: '127.0.0.1',
        CORE_URL: core,
        BROKER_URL: b.url,
        AI_COACH_URL: ai,
      }),
      (async () => {
        relay = await startRelay(new URL(core));
        return start('edge', 'edge.ts', { PORT: '0', CORE_URL: relay.url });
      })(),
    ]);
    const edge = url(edgePort);
    if (options.users !== undefined)
      await start('web', 'web.ts', { EDGE_URL: edge, DEMO_USERS: String(options.users) });
    return {
      urls: { edge, core, ai, broker: b.url },
      metrics: {
        edge: `${edge}/metrics`,
        core: `${core}/metrics`,
        workers: `${url(workersPort)}/metrics`,
        'ai-coach': `${ai}/metrics`,
      },
      prefix,
      cutEdgeToCore: () => relay!.cut(),
      output: (name) => children.find((c) => c.name === name)?.out ?? '',
      async stop() {
        process.off('exit', onExit);
        await stop();
      },
    };
  } catch (error) {
    process.off('exit', onExit);
    await stop();
    throw error;
  }
}

/** SIGTERM (the services shut down and flush their spans), SIGKILL after 10 s. */
function end(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Deletes every Redis key under `prefix` (the run's queues, jobs and locks). */
export async function removeKeys(prefix: string): Promise<void> {
  const redis = new Redis({ ...DEMO_REDIS, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

interface Relay {
  url: string;
  cut(): number;
  close(): void;
}

/** A TCP relay on a port of its own to `target`; `cut()` resets the open connections. */
async function startRelay(target: URL): Promise<Relay> {
  const open = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(Number(target.port), target.hostname);
    for (const [a, b] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      open.add(a);
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: url((server.address() as AddressInfo).port),
    cut() {
      const n = open.size / 2;
      for (const socket of open) socket.resetAndDestroy();
      return n;
    },
    close() {
      for (const socket of open) socket.destroy();
      server.close();
    },
  };
}
