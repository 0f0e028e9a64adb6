import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture, type LogCapture } from '../helpers/log-capture.js';

/** A request as the local server saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A node:http server on port 0 with canned routes. */
export interface TestServer {
  url: string;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * Routes: `/status/<code>` answers with that code and a JSON echo of the
 * request; `/hang` reads the request and never answers; anything else 200,
 * or the status asked for in an `x-test-status` request header.
 */
export async function startServer(): Promise<TestServer> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/hang') return;
      const m = /^\/status\/(\d{3})$/.exec(path);
      const asked = req.headers['x-test-status'];
      const status = m !== null ? Number(m[1]) : typeof asked === 'string' ? Number(asked) : 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path, traceparent: req.headers.traceparent ?? null }));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
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
export function refusedPort(): Promise<number> {
  return Promise.resolve(0);
}

/**
 * `init()` with an in-memory span exporter and its log lines captured: call
 * `logs.lines()` (which schema-validates every line) after each test and
 * after `shutdown()`.
 */
export function initForTest(service = 'worker'): {
  telemetry: Telemetry;
  spans: InMemorySpanExporter;
  logs: LogCapture;
} {
  const spans = new InMemorySpanExporter();
  const logs = createLogCapture();
  const telemetry = init({
    service,
    logging: { destination: logs.stream },
    metrics: { defaultMetrics: false },
    tracing: { exporter: 'none', spanProcessors: [new SimpleSpanProcessor(spans)] },
  });
  return { telemetry, spans, logs };
}

/** What {@link useClientTestbed} sets up for a test file. */
export interface ClientTestbed {
  telemetry: Telemetry;
  spans: InMemorySpanExporter;
  logs: LogCapture;
  server: TestServer;
}

/**
 * One `init()` and one local server per test file. After each test: spans,
 * seen requests and (with `resetMetrics`) every catalog metric are cleared,
 * and every log line so far is schema-validated; after the file, the server
 * closes, telemetry shuts down and the lines written by shutdown() are
 * validated too. The returned object is filled in `beforeAll`.
 */
export function useClientTestbed(service?: string, resetMetrics = false): ClientTestbed {
  const bed = {} as ClientTestbed;
  beforeAll(async () => {
    Object.assign(bed, initForTest(service));
    bed.server = await startServer();
  });
  afterEach(() => {
    bed.spans.reset();
    bed.server.seen.length = 0;
    if (resetMetrics) for (const m of Object.values(bed.telemetry.metrics)) m.reset();
    bed.logs.lines();
  });
  afterAll(async () => {
    await bed.server.close();
    await bed.telemetry.shutdown();
    bed.logs.lines();
  });
  return bed;
}

/** Catches what a promise rejects with (or fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}
