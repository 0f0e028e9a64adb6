/**
 * The OTLP/HTTP exporter against a real local HTTP server: what it sends
 * (method, content type, the configured headers, a decodable body), and how
 * it treats the collector's answers — retryable statuses retried within the
 * export timeout (honouring Retry-After), anything else failed at once, a
 * collector that never answers timed out.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchResult } from '../../src/tracing/batch-processor.js';
import { OtlpHttpExporter } from '../../src/tracing/otlp/http-exporter.js';
import { decodeExportTraceServiceRequest } from '../helpers/otlp-receiver.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The client's port: the same for requests over one kept-alive connection. */
  clientPort: number;
  body: Buffer;
  at: number;
}

let server: Server | undefined;
let exporter: OtlpHttpExporter | undefined;

afterEach(async () => {
  await exporter?.shutdown();
  exporter = undefined;
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

/** A collector answering each request with the next status of `answers` (the last one repeats). */
async function collector(
  answers: { status: number; headers?: Record<string, string> }[],
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        clientPort: req.socket.remotePort!,
        body: Buffer.concat(chunks),
        at: Date.now(),
      });
      const a = answers[Math.min(received.length - 1, answers.length - 1)]!;
      if (a.status === 0) return; // never answer
      res.writeHead(a.status, { 'content-type': 'application/x-protobuf', ...a.headers }).end();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/v1/traces`,
    received,
  };
}

function spans(n: number): ReadableSpan[] {
  const out: ReadableSpan[] = [];
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'core-api' }),
    spanProcessors: [
      {
        onStart: () => undefined,
        onEnd: (s) => void out.push(s),
        forceFlush: () => Promise.resolve(),
        shutdown: () => Promise.resolve(),
      },
    ],
  });
  const tracer = provider.getTracer('stacklight');
  for (let i = 0; i < n; i++) tracer.startSpan(`op ${i}`).end();
  return out;
}

function exportOnce(e: OtlpHttpExporter, batch: ReadableSpan[]): Promise<BatchResult> {
  return new Promise((resolve) =>
    e.export(
      batch.map((s) => e.prepare(s)),
      resolve,
    ),
  );
}

describe('OTLP/HTTP exporter', () => {
  it('POSTs protobuf with the configured headers, reusing one connection', async () => {
    const c = await collector([{ status: 200 }]);
    exporter = new OtlpHttpExporter({
      url: c.url,
      headers: { authorization: 'Bearer collector-token', 'x-tenant': 'acme' },
      timeoutMs: 5000,
    });
    expect(await exportOnce(exporter, spans(3))).toBe('ok');
    expect(await exportOnce(exporter, spans(2))).toBe('ok');
    expect(c.received).toHaveLength(2);
    const [first] = c.received;
    expect(first!.method).toBe('POST');
    expect(first!.url).toBe('/v1/traces');
    expect(first!.headers['content-type']).toBe('application/x-protobuf');
    expect(first!.headers['authorization']).toBe('Bearer collector-token');
    expect(first!.headers['x-tenant']).toBe('acme');
    expect(first!.headers['user-agent']).toMatch(/^stacklight\//);
    const decoded = decodeExportTraceServiceRequest(first!.body);
    expect(decoded.map((s) => s.name)).toEqual(['op 0', 'op 1', 'op 2']);
    expect(decoded[0]!.resource['service.name']).toBe('core-api');
    expect(c.received[1]!.headers.connection).toBe('keep-alive');
    expect(c.received[1]!.clientPort).toBe(first!.clientPort);
  });

  it('retries 503 and 429 (honouring Retry-After) and succeeds', async () => {
    const c = await collector([
      { status: 503, headers: { 'retry-after': '0' } },
      { status: 429, headers: { 'retry-after': '0' } },
      { status: 200 },
    ]);
    exporter = new OtlpHttpExporter({ url: c.url, headers: {}, timeoutMs: 5000 });
    expect(await exportOnce(exporter, spans(1))).toBe('ok');
    expect(c.received).toHaveLength(3);
    // The same batch each time.
    expect(c.received[2]!.body.equals(c.received[0]!.body)).toBe(true);
  });

  it('fails at once on a non-retryable answer', async () => {
    const c = await collector([{ status: 400 }]);
    exporter = new OtlpHttpExporter({ url: c.url, headers: {}, timeoutMs: 5000 });
    expect(await exportOnce(exporter, spans(1))).toBe('failed');
    expect(c.received).toHaveLength(1);
  });

  it('gives up when the next retry would pass the export timeout', async () => {
    const c = await collector([{ status: 503, headers: { 'retry-after': '30' } }]);
    exporter = new OtlpHttpExporter({ url: c.url, headers: {}, timeoutMs: 2000 });
    const started = Date.now();
    expect(await exportOnce(exporter, spans(1))).toBe('failed');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(c.received).toHaveLength(1);
  });

  it('times out a collector that never answers', async () => {
    const c = await collector([{ status: 0 }]);
    exporter = new OtlpHttpExporter({ url: c.url, headers: {}, timeoutMs: 300 });
    expect(await exportOnce(exporter, spans(1))).toBe('timeout');
    expect(c.received).toHaveLength(1);
  });

  it('fails on a refused connection', async () => {
    const c = await collector([{ status: 200 }]);
    await new Promise((r) => server!.close(r));
    server = undefined;
    exporter = new OtlpHttpExporter({ url: c.url, headers: {}, timeoutMs: 2000 });
    expect(await exportOnce(exporter, spans(1))).toBe('failed');
  });
});
