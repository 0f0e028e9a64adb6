/**
 * Shared harness of the BullMQ tests: both supported majors, a live
 * `init()` with in-memory spans and captured logs, and queues and workers
 * on the real Redis (127.0.0.1:6379) under a random key prefix, cleaned up
 * after each test so the suite can run any number of times.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import * as bullmq6 from 'bullmq';
import * as bullmq5 from 'bullmq5';
import { Redis } from 'ioredis';
import { init, type Telemetry } from '../../src/index.js';
import type { StacklightOptions } from '../../src/types.js';
import { createLogCapture, type LogCapture, type LogLine } from '../helpers/log-capture.js';

/** The BullMQ majors under test. The API used here is the same in both. */
export const BULLMQ_MAJORS = [
  { major: 6, mod: bullmq6 },
  { major: 5, mod: bullmq5 as unknown as typeof bullmq6 },
] as const;

export type BullMQ = typeof bullmq6;

export const REDIS = { host: '127.0.0.1', port: 6379 } as const;

interface Closable {
  close(): Promise<unknown>;
}

/** One test's world. */
export interface Harness {
  readonly telemetry: Telemetry;
  readonly exporter: InMemorySpanExporter;
  readonly logs: LogCapture;
  /** BullMQ key prefix of this test (random). */
  readonly prefix: string;
  /** BullMQ connection options with this test's prefix. */
  readonly opts: { connection: { host: string; port: number }; prefix: string };
  /** A queue name unique to this test. */
  name(label: string): string;
  /** Closes `thing` at cleanup (workers first, then queues). */
  track<T extends Closable>(thing: T, kind?: 'worker' | 'queue'): T;
  /** A queue of this test, obliterated and closed at cleanup. */
  queue(mod: BullMQ, name: string): bullmq6.Queue;
  /** Finished spans so far. */
  spans(): ReadableSpan[];
  /** Log lines written so far (schema-validated). */
  lines(): LogLine[];
  /** Closes everything, shuts telemetry down, then validates every captured log line. */
  cleanup(): Promise<void>;
}

/**
 * Starts telemetry and returns a harness; call `cleanup()` in afterEach (it
 * also schema-validates every log line the test wrote).
 */
export function createHarness(options: StacklightOptions = {}): Harness {
  const exporter = new InMemorySpanExporter();
  const logs = createLogCapture();
  const telemetry = init({
    service: 'workers',
    env: 'test',
    ...options,
    metrics: { defaultMetrics: false, ...options.metrics },
    tracing: {
      exporter: 'none',
      spanProcessors: [new SimpleSpanProcessor(exporter)],
      ...options.tracing,
    },
    logging: { destination: logs.stream, ...options.logging },
  });
  const prefix = `sl-test-${randomUUID().slice(0, 8)}`;
  const workers: Closable[] = [];
  const queues: Closable[] = [];
  const toObliterate: bullmq6.Queue[] = [];
  return {
    telemetry,
    exporter,
    logs,
    prefix,
    opts: { connection: { ...REDIS }, prefix },
    name: (label) => `q_${label}_${randomUUID().slice(0, 6)}`,
    track(thing, kind = 'worker') {
      (kind === 'worker' ? workers : queues).push(thing);
      return thing;
    },
    queue(mod, name) {
      const q = new mod.Queue(name, { connection: { ...REDIS }, prefix });
      queues.push(q);
      toObliterate.push(q);
      return q;
    },
    spans: () => exporter.getFinishedSpans(),
    lines: () => logs.lines(),
    async cleanup() {
      await Promise.all(workers.map((w) => bounded(w.close())));
      await Promise.all(toObliterate.map((q) => bounded(q.obliterate({ force: true }))));
      await Promise.all(queues.map((q) => bounded(q.close())));
      // Every key under this test's prefix, also of queues the test made itself.
      await bounded(deleteKeys(`${prefix}:*`));
      await telemetry.shutdown();
      logs.lines(); // every line of the test, shutdown included, validates against the log schema
    },
  };
}

/** Deletes the Redis keys matching `pattern` (SCAN, so a large keyspace is not blocked). */
export async function deleteKeys(pattern: string): Promise<number> {
  const redis = new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  let deleted = 0;
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

/** Waits for `p` at most `ms`; cleanup must not hang on a dead connection. */
export function bounded(p: Promise<unknown>, ms = 3000): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}

/** A local HTTP server on a free port. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A TCP port that refuses every connection: port 0. The kernel answers a
 * connect() to port 0 with ECONNREFUSED, and nothing can ever listen there
 * (a port bound and then released could be taken by another process before
 * the test connects). Node's net, fetch and ioredis connect to it as given;
 * node:http's `request()` does not (it treats 0 as "default port").
 */
export function closedPort(): Promise<number> {
  return Promise.resolve(0);
}

/** Value of one sample in a Prometheus text exposition, or undefined. */
export function sample(
  text: string,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const close = line.lastIndexOf('}');
    const body = line.slice(name.length + 1, close);
    const have: Record<string, string> = {};
    for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      have[m[1]!] = m[2]!;
    if (Object.entries(labels).every(([k, v]) => have[k] === v))
      return Number(line.slice(close + 1).trim());
  }
  return undefined;
}

/** Spans by name. */
export function spansNamed(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

/** Lines with a message. */
export function linesWith(lines: LogLine[], msg: string): LogLine[] {
  return lines.filter((l) => l.msg === msg);
}
