import { createServer, request, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { init, isStacklightError, type Telemetry } from '../../src/index.js';
import { createLogCapture, type LogCapture, type LogLine } from '../helpers/log-capture.js';

let live: Telemetry | undefined;
const captures: LogCapture[] = [];
afterEach(async () => {
  await live?.shutdown();
  live = undefined;
  // Every line written to any capture of the test validates against the log schema.
  for (const c of captures.splice(0)) c.lines();
});

/** A log destination; `lines()` returns what was written so far, parsed and schema-validated. */
function capture(): { lines: () => LogLine[]; destination: LogCapture['stream'] } {
  const c = createLogCapture();
  captures.push(c);
  return { lines: () => c.lines(), destination: c.stream };
}

function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string; type: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('init()', () => {
  it('returns a handle whose logger writes the spec fields on every line', async () => {
    const { lines, destination } = capture();
    live = init({
      service: 'edge',
      env: 'staging',
      region: 'eu-west-1',
      version: '1.4.0',
      logging: { destination },
      tracing: { exporter: 'none' },
    });
    live.logger.info({ route: '/login' }, 'ready');
    await live.shutdown();
    const line = lines().find((l) => l.msg === 'ready')!;
    expect(line).toMatchObject({
      level: 'info',
      service: 'edge',
      env: 'staging',
      region: 'eu-west-1',
      route: '/login',
    });
    expect(String(line.ts)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("uses a registry of its own, never prom-client's global one", async () => {
    const { register } = await import('prom-client');
    live = init({
      service: 'edge',
      logging: { destination: capture().destination },
      tracing: { exporter: 'none' },
    });
    expect(live.registry).not.toBe(register);
    expect(await register.metrics()).not.toContain('http_requests_total');
    expect(await live.metricsText()).toContain('# TYPE http_requests_total counter');
  });

  it('refuses a second live init() and allows one after shutdown()', async () => {
    live = init({
      service: 'edge',
      logging: { destination: capture().destination },
      tracing: { exporter: 'none' },
    });
    let error: unknown;
    try {
      init({ service: 'other', tracing: { exporter: 'none' } });
    } catch (err) {
      error = err;
    }
    expect(isStacklightError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'stacklight: init() was already called in this process (service "edge"); reuse that Telemetry handle, or call its shutdown() before calling init() again',
    );
    await live.shutdown();
    live = init({
      service: 'again',
      logging: { destination: capture().destination },
      tracing: { exporter: 'none' },
    });
    expect(live.service).toBe('again');
  });

  it('fails at init() on a wrong option, naming it', () => {
    expect(() => init({ service: 'edge', tracing: { sampleRatio: 2 } })).toThrow(
      'stacklight: tracing.sampleRatio must be a number in [0, 1], got 2',
    );
  });

  it('registers the tracer provider globally and samples by the configured ratio', async () => {
    live = init({
      service: 'edge',
      logging: { destination: capture().destination },
      tracing: { exporter: 'none', sampleRatio: 0 },
    });
    const span = trace.getTracer('x').startSpan('root');
    expect(span.isRecording()).toBe(false);
    span.end();
    await live.shutdown();
    live = init({
      service: 'edge',
      logging: { destination: capture().destination },
      tracing: { exporter: 'none' },
    });
    const sampled = trace.getTracer('x').startSpan('root');
    expect(sampled.isRecording()).toBe(true);
    sampled.end();
  });

  it('warns once, with the fix, when told to own the provider while another is registered', async () => {
    const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    const { lines, destination } = capture();
    // (With the default `provider: 'auto'` stacklight joins that provider instead.)
    live = init({
      service: 'edge',
      logging: { destination },
      tracing: { exporter: 'none', provider: 'stacklight' },
    });
    await live.shutdown();
    const warnings = lines().filter(
      (l) => l.level === 'warn' && String(l.msg).includes('another global TracerProvider'),
    );
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.msg)).toContain('Fix:');
    trace.disable();
  });
});

describe('metrics endpoint', () => {
  it('serves Prometheus text, OpenMetrics by Accept, and honours the bearer token', async () => {
    live = init({
      service: 'worker',
      logging: { destination: capture().destination },
      tracing: { exporter: 'none' },
      metrics: { port: 0, host: '127.0.0.1', token: 's3cret-token' },
    });
    await live.ready();
    const port = live.metricsAddress()!.port;
    expect((await get(port, '/metrics')).status).toBe(401);
    expect((await get(port, '/metrics', { authorization: 'Bearer wrong' })).status).toBe(401);
    const text = await get(port, '/metrics', { authorization: 'Bearer s3cret-token' });
    expect(text.status).toBe(200);
    expect(text.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(text.body).toContain('stacklight_build_info{');
    const om = await get(port, '/metrics', {
      authorization: 'Bearer s3cret-token',
      accept: 'application/openmetrics-text; version=1.0.0',
    });
    expect(om.type).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(om.body.endsWith('# EOF\n')).toBe(true);
    expect((await get(port, '/other', { authorization: 'Bearer s3cret-token' })).status).toBe(404);
  });

  it('reports a busy metrics port through ready() without crashing', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const { lines, destination } = capture();
    live = init({
      service: 'w',
      logging: { destination },
      tracing: { exporter: 'none' },
      metrics: { port, host: '127.0.0.1' },
    });
    await expect(live.ready()).rejects.toThrow(/EADDRINUSE/);
    await live.shutdown();
    expect(
      lines().some((l) => l.level === 'error' && String(l.msg).includes('cannot serve metrics')),
    ).toBe(true);
    blocker.close();
  });
});

describe('shutdown()', () => {
  async function withCollector(kind: 'dead' | 'hung'): Promise<{ url: string; close: () => void }> {
    if (kind === 'dead') {
      // Resets every connection at once (it keeps its port, so no other
      // process can take it while the test runs).
      const s = createServer();
      s.on('connection', (c) => c.resetAndDestroy());
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
      return {
        url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/traces`,
        close: () => void s.close(),
      };
    }
    const sockets = new Set<Socket>();
    const s: Server = createServer(() => undefined); // accepts, never answers
    s.on('connection', (c) => sockets.add(c));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/traces`,
      close: () => {
        for (const c of sockets) c.destroy();
        s.close();
      },
    };
  }

  it.each(['dead', 'hung'] as const)(
    'resolves within its bounded time against a %s collector',
    async (kind) => {
      const collector = await withCollector(kind);
      live = init({
        service: 'edge',
        logging: { destination: capture().destination },
        tracing: { endpoint: collector.url, exportTimeoutMs: 30_000 },
        shutdown: { timeoutMs: 500 },
      });
      for (let i = 0; i < 50; i++) trace.getTracer('t').startSpan(`s${i}`).end();
      const started = Date.now();
      await live.shutdown();
      const took = Date.now() - started;
      expect(took).toBeLessThan(1500);
      // The globals are given back even though the flush is still stuck: a new
      // init() registers its provider without a conflict warning.
      const { lines, destination } = capture();
      live = init({ service: 'next', logging: { destination }, tracing: { exporter: 'none' } });
      expect(lines().filter((l) => l.level === 'warn')).toEqual([]);
      collector.close();
    },
  );

  it('is safe to call twice and runs registered steps once, in phase order', async () => {
    live = init({
      service: 'edge',
      logging: { destination: capture().destination },
      tracing: { exporter: 'none' },
    });
    const order: string[] = [];
    live.onShutdown('close', 'c', () => void order.push('close'));
    live.onShutdown('drain', 'd', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('drain');
    });
    live.onShutdown('flush', 'f', () => void order.push('flush'));
    await Promise.all([live.shutdown(), live.shutdown()]);
    await live.shutdown();
    expect(order).toEqual(['drain', 'flush', 'close']);
  });

  it('skips a step that outlives the deadline and still resolves', async () => {
    const { lines, destination } = capture();
    live = init({
      service: 'edge',
      logging: { destination },
      tracing: { exporter: 'none' },
      shutdown: { timeoutMs: 200 },
    });
    live.onShutdown('drain', 'stuck', () => new Promise(() => undefined));
    const started = Date.now();
    await live.shutdown();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(
      live.selfMetrics.internalErrorsTotal.read({ component: 'shutdown' }),
    ).toBeGreaterThanOrEqual(1);
    expect(lines().some((l) => String(l.msg).includes('shutdown step "stuck" failed'))).toBe(true);
  });
});
