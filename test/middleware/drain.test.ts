import type { Server } from 'node:http';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { stacklightMiddleware } from '../../src/express.js';
import { stacklightPlugin } from '../../src/fastify.js';
import {
  closeServers,
  connectionsClosed,
  deferred,
  portOf,
  send,
  sendAndAbort,
  setupTelemetry,
  waitFor,
  type Harness,
} from './harness.js';

let h: Harness;
let app: FastifyInstance | undefined;
let server: Server | undefined;

afterEach(async () => {
  await closeServers(app, server);
  app = undefined;
  server = undefined;
  await h.telemetry.shutdown();
  h.logs.lines(); // every line of the test validates against the log schema
});

/** A listening Fastify app with `/users/:id`, `/slow` (waits for `release`) and `/forever`. */
async function fastifyServer(
  drainGraceMs: number,
  shutdownTimeoutMs: number,
  hooks: { started?: () => void; release?: Promise<void> } = {},
): Promise<number> {
  h = setupTelemetry({ shutdownTimeoutMs });
  app = Fastify();
  await app.register(stacklightPlugin, {
    telemetry: h.telemetry,
    readinessEndpoint: true,
    drainGraceMs,
  });
  app.get('/users/:id', async () => ({ ok: true }));
  app.get('/slow', async () => {
    hooks.started?.();
    await hooks.release;
    return 'done';
  });
  app.get('/forever', () => {
    hooks.started?.();
    return new Promise(() => undefined);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return portOf(app.server);
}

describe('graceful drain', () => {
  it('turns readiness 503 first, serves during the grace, then refuses, and records in-flight requests before the flush', async () => {
    const started = deferred();
    const release = deferred();
    // The grace only bounds how long the two requests below may take.
    const GRACE_MS = 1500;
    const port = await fastifyServer(GRACE_MS, 10_000, {
      started: () => started.resolve(),
      release: release.promise,
    });
    const slow = send(port, '/slow');
    await started.promise;

    const shutdown = h.telemetry.shutdown();
    // Set after the drain's grace timer and due later, so it fires after it.
    const graceOver = new Promise((r) => setTimeout(r, GRACE_MS + 1));
    let finished = false;
    void shutdown.then(() => (finished = true));

    const ready = await send(port, '/readyz');
    expect([ready.status, JSON.parse(ready.body)]).toEqual([
      503,
      { status: 'draining', checks: {} },
    ]);
    expect((await send(port, '/users/1')).status).toBe(200); // within the grace period

    await graceOver;
    const refused = await send(port, '/users/2');
    expect(refused.status).toBe(503);
    expect(refused.headers['connection']).toBe('close');
    expect(JSON.parse(refused.body)).toEqual({
      error: 'Service Unavailable',
      message: 'shutting down',
    });
    expect(finished).toBe(false); // still waiting for /slow

    release.resolve();
    expect((await slow).status).toBe(200);
    await shutdown;
    expect(h.count('/slow', 'GET', 200)).toBe(1);
    expect(h.count('/users/:id', 'GET', 200)).toBe(1);
    expect(h.count('/users/:id', 'GET', 503)).toBe(1);
    expect(h.requestLines().map((l) => [l['route'], l['status']])).toEqual([
      ['/users/:id', 200],
      ['/users/:id', 503],
      ['/slow', 200],
    ]);
  });

  it('records a response that never finishes as 499 once the drain runs out of time, exactly once', async () => {
    const started = deferred();
    const port = await fastifyServer(0, 800, { started: () => started.resolve() });
    const pending = send(port, '/forever').catch(() => undefined);
    await started.promise;
    const t0 = Date.now();
    await h.telemetry.shutdown();
    expect(Date.now() - t0).toBeLessThan(5000); // bounds a hang; its budget is 800 ms
    expect(h.count('/forever', 'GET', 499)).toBe(1);
    expect(h.requestLines()).toEqual([
      expect.objectContaining({
        msg: 'request aborted',
        status: 499,
        route: '/forever',
        level: 'warn',
      }),
    ]);
    // The connection closing later does not count it again.
    app!.server.closeAllConnections();
    await pending;
    await connectionsClosed(app!.server);
    expect(h.count('/forever', 'GET', 499)).toBe(1);
    expect(h.requestLines()).toHaveLength(1);
  });

  it('refuses new requests at once with the default grace of 0 (Express)', async () => {
    h = setupTelemetry({ shutdownTimeoutMs: 2000 });
    const started = deferred();
    const release = deferred();
    const e = express();
    e.use(stacklightMiddleware(h.telemetry, { healthEndpoint: true, readinessEndpoint: true }));
    e.get('/slow', (_req, res) => {
      started.resolve();
      void release.promise.then(() => res.send('done'));
    });
    e.get('/users/:id', (_req, res) => void res.send('ok'));
    server = e.listen(0);
    await new Promise((r) => server!.once('listening', r));
    const port = portOf(server);

    const slow = send(port, '/slow');
    await started.promise;
    const shutdown = h.telemetry.shutdown();
    // Readiness turns 503 when the drain starts; with no grace, refusing starts with it.
    for (let i = 0; (await send(port, '/readyz')).status !== 503; i++) {
      if (i > 1000) throw new Error('readiness never turned 503');
    }
    const refused = await send(port, '/users/1');
    expect(refused.status).toBe(503);
    expect(refused.headers['connection']).toBe('close');
    expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(refused.headers['cache-control']).toBe('no-store');
    expect(refused.headers['content-length']).toBe(String(Buffer.byteLength(refused.body)));
    expect(JSON.parse(refused.body)).toEqual({
      error: 'Service Unavailable',
      message: 'shutting down',
    });
    const ready = await send(port, '/readyz');
    expect(JSON.parse(ready.body)).toEqual({ status: 'draining', checks: {} });
    expect(ready.headers['content-type']).toBe('application/json; charset=utf-8');
    const head = await send(port, '/readyz', { method: 'HEAD' });
    expect([head.status, head.body]).toEqual([503, '']);
    expect((await send(port, '/healthz')).status).toBe(200); // liveness stays up
    release.resolve();
    expect((await slow).body).toBe('done');
    await shutdown;
    expect(h.count('/slow', 'GET', 200)).toBe(1);
    expect(h.count('unmatched', 'GET', 503)).toBe(1);
  });
});

describe('client aborts (Fastify, real socket)', () => {
  it('counts a request whose client disconnected exactly once, as 499', async () => {
    const started = deferred();
    const port = await fastifyServer(0, 2000, { started: () => started.resolve() });
    await sendAndAbort(port, '/forever', started.promise);
    await waitFor(() => h.count('/forever', 'GET', 499) === 1);
    await connectionsClosed(app!.server);
    expect(h.count('/forever', 'GET', 499)).toBe(1);
    const lines = h.requestLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'request aborted',
      status: 499,
      level: 'warn',
      route: '/forever',
    });
    expect(h.spans()[0]!.attributes['error.type']).toBe('aborted');
  });
});
