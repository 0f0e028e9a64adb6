/**
 * Shared setup of the middleware tests: a real `init()` writing its log lines
 * to a capture, spans to an in-memory exporter, and helpers to read the
 * request metrics back and to talk to a real listening server.
 */
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { init, type Telemetry } from '../../src/index.js';
import type { SamplerName } from '../../src/types.js';
import { createLogCapture, type LogCapture, type LogLine } from '../helpers/log-capture.js';

export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const PARENT_SPAN_ID = '00f067aa0ba902b7';
export const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

export interface Harness {
  telemetry: Telemetry;
  logs: LogCapture;
  exporter: InMemorySpanExporter;
  /** Request log lines (the ones with a `status`), parsed and schema-checked. */
  requestLines(): LogLine[];
  spans(): ReadableSpan[];
  /** `http_requests_total` for one series. */
  count(route: string, method: string, code: number | string): number;
  /** Number of `http_requests_total` series. */
  seriesCount(): number;
}

export interface HarnessOptions {
  tracing?: boolean;
  sampler?: SamplerName;
  sampleRatio?: number;
  shutdownTimeoutMs?: number;
  metricsToken?: string;
  maxSeriesPerMetric?: number;
}

/**
 * A live `init()`; call `telemetry.shutdown()` in `afterEach`, then
 * `logs.lines()` so that every line the test wrote is schema-validated.
 */
export function setupTelemetry(o: HarnessOptions = {}): Harness {
  const logs = createLogCapture();
  const exporter = new InMemorySpanExporter();
  const telemetry = init({
    service: 'edge',
    env: 'test',
    logging: { destination: logs.stream, level: 'info' },
    metrics: {
      defaultMetrics: false,
      ...(o.metricsToken === undefined ? {} : { token: o.metricsToken }),
      ...(o.maxSeriesPerMetric === undefined ? {} : { maxSeriesPerMetric: o.maxSeriesPerMetric }),
    },
    tracing: {
      enabled: o.tracing ?? true,
      exporter: 'none',
      sampler: o.sampler ?? 'parentbased_always_on',
      ...(o.sampleRatio === undefined ? {} : { sampleRatio: o.sampleRatio }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    },
    shutdown: { timeoutMs: o.shutdownTimeoutMs ?? 2000 },
  });
  return {
    telemetry,
    logs,
    exporter,
    requestLines: () => logs.lines().filter((l) => typeof l['status'] === 'number'),
    spans: () => exporter.getFinishedSpans(),
    count: (route, method, code) =>
      telemetry.metrics.httpRequestsTotal.read({ route, method, code }),
    seriesCount: () =>
      (telemetry.metrics.httpRequestsTotal as unknown as { seriesCount: number }).seriesCount,
  };
}

/** Canonical key of a sample: `name{a="1",b="2"}` with labels sorted by name. */
export function sampleKey(name: string, labels: Record<string, string | number>): string {
  const body = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(',');
  return `${name}{${body}}`;
}

/**
 * Parses the Prometheus text exposition into canonical sample keys (see
 * {@link sampleKey}) → value, so tests do not depend on label order.
 */
export async function exposition(telemetry: Telemetry): Promise<Map<string, number>> {
  const text = await telemetry.metricsText();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!;
    out.set(sampleKey(m[1]!, labels), Number(m[3]));
  }
  return out;
}

/** Port of a listening server. */
export function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over a real socket (node:http, so headers are sent verbatim). */
export function send(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { connection: 'close', ...options.headers },
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Starts a request and destroys the socket once `started` resolves (the
 * handler is running), like a client that gives up.
 */
export function sendAndAbort(port: number, path: string, started: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.end();
    void started.then(() => req.destroy());
  });
}

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Resolves once `server` has no open connection left and the close events
 * of its last requests have run: the event after which a request that was
 * going to be recorded twice would have been (instead of a sleep).
 */
export async function connectionsClosed(server: Server, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<number>((resolve, reject) =>
      server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
    );
    if (open === 0) break;
    if (Date.now() > end) throw new Error(`${open} connections still open`);
    await new Promise((r) => setTimeout(r, 5));
  }
  // 'close' listeners of requests and responses run on the following ticks.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

/** Waits until `predicate` holds (polling), or fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Closes a test's Fastify app and plain server (either may be absent), dropping kept-alive sockets first. */
export async function closeServers(
  app: { server: Server; close(): PromiseLike<unknown> } | undefined,
  server: Server | undefined,
): Promise<void> {
  if (app !== undefined) {
    app.server.closeAllConnections();
    await app.close();
  }
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}
