import type { Server } from 'node:http';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stacklightMiddleware } from '../../src/express.js';
import { stacklightPlugin, type StacklightFastifyOptions } from '../../src/fastify.js';
import { portOf, send, setupTelemetry, type Harness } from './harness.js';

let h: Harness;
let app: FastifyInstance | undefined;
let server: Server | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = undefined;
  }
  await h.telemetry.shutdown();
  h.logs.lines(); // every line of the test validates against the log schema
});

async function fastify(
  options: Omit<StacklightFastifyOptions, 'telemetry'>,
  token?: string,
): Promise<FastifyInstance> {
  h = setupTelemetry(token === undefined ? {} : { metricsToken: token });
  app = Fastify();
  await app.register(stacklightPlugin, { telemetry: h.telemetry, ...options });
  app.get('/users/:id', async () => ({ ok: true }));
  await app.ready();
  return app;
}

describe('metrics endpoint', () => {
  it('serves the exposition through telemetry.metricsHandler (Fastify)', async () => {
    const f = await fastify({ metricsEndpoint: true });
    await f.inject('/users/1');
    const res = await f.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.body).toMatch(/^http_requests_total\{.*route="\/users\/:id".*\} 1$/m);
    const om = await f.inject({
      url: '/metrics',
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    expect(om.headers['content-type']).toMatch(/^application\/openmetrics-text/);
  });

  it('honours metrics.token and a custom path', async () => {
    const f = await fastify({ metricsEndpoint: '/internal/metrics' }, 's3cret');
    expect((await f.inject('/internal/metrics')).statusCode).toBe(401);
    expect(
      (await f.inject({ url: '/internal/metrics', headers: { authorization: 'Bearer s3cret' } }))
        .statusCode,
    ).toBe(200);
    expect((await f.inject('/metrics')).statusCode).toBe(404);
  });

  it('serves all three endpoints from the Express middleware, GET and HEAD', async () => {
    h = setupTelemetry();
    const e = express();
    e.use(
      stacklightMiddleware(h.telemetry, {
        metricsEndpoint: true,
        healthEndpoint: true,
        readinessEndpoint: true,
      }),
    );
    e.post('/healthz', (_req, res) => void res.send('app route'));
    server = e.listen(0);
    await new Promise((r) => server!.once('listening', r));
    const port = portOf(server);
    const health = await send(port, '/healthz?probe=1');
    expect([health.status, health.body, health.headers['cache-control']]).toEqual([
      200,
      '{"status":"ok"}',
      'no-store',
    ]);
    expect((await send(port, '/healthz', { method: 'HEAD' })).body).toBe('');
    expect(JSON.parse((await send(port, '/readyz')).body)).toEqual({ status: 'ok', checks: {} });
    expect((await send(port, '/metrics')).body).toContain('# TYPE http_requests_total counter');
    // Other methods fall through to the app.
    expect((await send(port, '/healthz', { method: 'POST' })).body).toBe('app route');
    // The endpoint paths are excluded from metrics and logs by default, as
    // templates: the app's own POST /healthz route too.
    expect(h.count('/healthz', 'GET', 200)).toBe(0);
    expect(h.count('/healthz', 'POST', 200)).toBe(0);
    expect(h.requestLines()).toEqual([]);
  });
});

describe('readiness', () => {
  it('answers 200 with each check state when every check passes', async () => {
    const f = await fastify({
      readinessEndpoint: true,
      readinessChecks: { db: () => true, cache: async () => 'PONG' },
    });
    const res = await f.inject('/readyz');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toEqual({
      status: 'ok',
      checks: {
        db: { status: 'ok', durationMs: expect.any(Number) },
        cache: { status: 'ok', durationMs: expect.any(Number) },
      },
    });
  });

  it('answers 503 when a check fails, returns false or hangs, without calling a hanging check again', async () => {
    const hanging = vi.fn(() => new Promise(() => undefined));
    const f = await fastify({
      readinessEndpoint: true,
      readinessTimeoutMs: 1000,
      readinessChecks: {
        db: () => {
          throw Object.assign(new Error('connect ECONNREFUSED postgres://user:pw@db'), {
            code: 'ECONNREFUSED',
          });
        },
        flag: () => false,
        queue: { check: hanging, timeoutMs: 50 },
        ok: () => undefined,
      },
    });
    const started = Date.now();
    const res = await f.inject('/readyz');
    expect(Date.now() - started).toBeLessThan(900);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: 'fail',
      checks: {
        db: { status: 'fail', durationMs: expect.any(Number) },
        flag: { status: 'fail', durationMs: expect.any(Number) },
        queue: { status: 'timeout', durationMs: expect.any(Number) },
        ok: { status: 'ok', durationMs: expect.any(Number) },
      },
    });
    expect(res.body).not.toContain('ECONNREFUSED');
    expect(
      (res.json() as { checks: { queue: { durationMs: number } } }).checks.queue.durationMs,
    ).toBeGreaterThanOrEqual(45);

    await f.inject('/readyz');
    expect(hanging).toHaveBeenCalledTimes(1);
    // Transitions are logged once, not on every probe.
    const warnings = h.logs.lines().filter((l) => l['level'] === 'warn');
    expect(warnings.map((l) => l['msg'])).toEqual([
      'readiness check "db" failed',
      'readiness check "flag" failed',
      'readiness check "queue" timed out after 50 ms',
    ]);
    expect(warnings[0]).toMatchObject({ error: { code: 'ECONNREFUSED' } });
  });

  it('logs when a failing check recovers', async () => {
    let up = false;
    const f = await fastify({ readinessEndpoint: true, readinessChecks: { db: () => up } });
    expect((await f.inject('/readyz')).statusCode).toBe(503);
    up = true;
    expect((await f.inject('/readyz')).statusCode).toBe(200);
    expect(h.logs.lines().map((l) => l['msg'])).toEqual([
      'readiness check "db" failed',
      'readiness check "db" recovered',
    ]);
  });
});
