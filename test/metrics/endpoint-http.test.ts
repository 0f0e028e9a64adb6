/**
 * What a scraper (or a stray client) sees on the metrics-only port of a
 * worker (`metrics.port`), over a real socket: the methods it takes, the
 * status, headers and body of every refusal, HEAD without a body, a query
 * string on the path, and a renderer that fails answered with a bare 500.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createMetricsHandler, startMetricsServer } from '../../src/metrics/handler.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { closeServers, portOf, send } from '../middleware/harness.js';

const TOKEN = 'w0rker-scrape-token';
const BEARER = { authorization: `Bearer ${TOKEN}` };
const PLAIN = 'text/plain; charset=utf-8';

let telemetry: Telemetry | undefined;
let server: Server | undefined;

afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  if (server !== undefined) await closeServers(undefined, server);
  server = undefined;
});

async function worker(token?: string): Promise<number> {
  telemetry = init({
    service: 'worker',
    logging: { destination: createLogCapture().stream },
    tracing: { exporter: 'none' },
    metrics: { port: 0, host: '127.0.0.1', defaultMetrics: false, ...(token && { token }) },
  });
  await telemetry.ready();
  return telemetry.metricsAddress()!.port;
}

describe('the metrics-only port', () => {
  it('serves the exposition to GET, with no-store, and nothing but headers to HEAD', async () => {
    const port = await worker(TOKEN);
    const get = await send(port, '/metrics', { headers: BEARER });
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(get.headers['cache-control']).toBe('no-store');
    expect(get.body).toMatch(/^stacklight_build_info\{/m);
    const head = await send(port, '/metrics', { method: 'HEAD', headers: BEARER });
    expect(head.status).toBe(200);
    expect(head.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(head.body).toBe('');
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS'])(
    'answers %s with 405 and the methods it allows, before looking at the token',
    async (method) => {
      const port = await worker(TOKEN);
      const res = await send(port, '/metrics', { method, headers: BEARER, body: 'x' });
      expect(res.status).toBe(405);
      expect(res.headers['allow']).toBe('GET, HEAD');
      expect(res.headers['content-type']).toBe(PLAIN);
      expect(res.body).toBe('method not allowed\n');
      // Without the token too: the method is refused first, and no metric leaks.
      const anon = await send(port, '/metrics', { method });
      expect(anon.status).toBe(405);
      expect(anon.body).not.toContain('stacklight_');
    },
  );

  it('refuses a missing token with a plain 401 that names the scheme', async () => {
    const port = await worker(TOKEN);
    const res = await send(port, '/metrics');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers['content-type']).toBe(PLAIN);
    expect(res.body).toBe('unauthorized\n');
  });

  it('takes the token after more than one space (RFC 6750 allows 1*SP)', async () => {
    const port = await worker(TOKEN);
    const res = await send(port, '/metrics', { headers: { authorization: `Bearer   ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.body).toContain('stacklight_build_info');
  });

  it('serves GET without a token when none is configured', async () => {
    const port = await worker();
    const res = await send(port, '/metrics');
    expect(res.status).toBe(200);
    expect(res.body).toContain('stacklight_build_info');
  });

  it('serves the path with a query string, and 404s every other path', async () => {
    const port = await worker(TOKEN);
    const query = await send(port, '/metrics?name[]=http_requests_total', { headers: BEARER });
    expect(query.status).toBe(200);
    expect(query.body).toContain('stacklight_build_info');
    for (const path of ['/', '/metrics/', '/metricsx', '/other?/metrics']) {
      const res = await send(port, path, { headers: BEARER });
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.headers['content-type']).toBe(PLAIN);
      expect(res.body).toBe('not found\n');
    }
  });
});

describe('a renderer that fails', () => {
  it('answers 500 without details and reports the error', async () => {
    const errors: unknown[] = [];
    const handler = createMetricsHandler(
      () => Promise.reject(new Error('registry exploded: password=hunter2')),
      { onError: (err) => errors.push(err) },
    );
    server = createServer(handler);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const res = await send(portOf(server), '/metrics');
    expect(res.status).toBe(500);
    expect(res.headers['content-type']).toBe(PLAIN);
    expect(res.body).toBe('metrics unavailable\n');
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toContain('registry exploded');
  });

  it('still answers 500 when no onError is given', async () => {
    const handler = createMetricsHandler(() => Promise.reject(new Error('boom')));
    server = createServer(handler);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const res = await send(portOf(server), '/metrics');
    expect([res.status, res.body]).toEqual([500, 'metrics unavailable\n']);
  });
});

describe('a metrics server that fails after it listens', () => {
  it('absorbs the error (EMFILE on accept) instead of throwing it in the host, and keeps serving', async () => {
    const seen: string[] = [];
    const handler = createMetricsHandler(() => Promise.resolve('up 1\n'));
    server = await startMetricsServer(handler, {
      port: 0,
      host: '127.0.0.1',
      path: '/metrics',
      onError: (err) => seen.push(err.message),
    });
    // Without a listener this emit throws (in a service: an uncaught exception).
    expect(() => server!.emit('error', new Error('accept EMFILE'))).not.toThrow();
    expect(seen).toEqual(['accept EMFILE']);
    expect((await send(portOf(server), '/metrics')).body).toBe('up 1\n');
  });
});
