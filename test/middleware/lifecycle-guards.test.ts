/**
 * Two things a service author relies on and would notice at once if they
 * broke: a router mounted through a wrapper function still gives one
 * series per route template (not one per id), and `shutdown()` returns as
 * soon as the last in-flight request has ended instead of sitting out its
 * whole budget.
 */
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { stacklightMiddleware } from '../../src/express.js';
import { stacklightPlugin } from '../../src/fastify.js';
import { closeServers, deferred, portOf, send, setupTelemetry, type Harness } from './harness.js';

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

describe('a router mounted through a wrapper function (Express 5)', () => {
  it('gives one series per route template, whatever the ids', async () => {
    h = setupTelemetry();
    const e = express();
    e.use(stacklightMiddleware(h.telemetry));
    const items = express.Router({ mergeParams: true });
    items.get('/items/:itemId', (_req, res) => void res.send('ok'));
    // The router is not in the app's router tree: only a function is.
    e.use('/orgs/:orgId', function withAudit(req: Request, res: Response, next: NextFunction) {
      items(req, res, next);
    });
    server = e.listen(0, '127.0.0.1');
    await new Promise((r) => server!.once('listening', r));
    const port = portOf(server);

    for (const [org, item] of [
      ['1', '7'],
      ['2', '8'],
      ['acme', 'x-99'],
    ]) {
      expect((await send(port, `/orgs/${org}/items/${item}`)).status).toBe(200);
    }
    expect(h.count('/orgs/:orgId/items/:itemId', 'GET', 200)).toBe(3);
    expect(h.seriesCount()).toBe(1);
    const routes = h.requestLines().map((l) => l['route']);
    expect(routes).toEqual(Array(3).fill('/orgs/:orgId/items/:itemId'));
  });
});

describe('shutdown() with requests in flight', () => {
  const BUDGET_MS = 30_000;

  /** Resolves with which came first: shutdown() or half of its budget. */
  function raceHalfBudget(shutdown: Promise<void>): Promise<'shutdown' | 'half budget'> {
    let timer: NodeJS.Timeout | undefined;
    const half = new Promise<'half budget'>((resolve) => {
      timer = setTimeout(() => resolve('half budget'), BUDGET_MS / 2);
    });
    return Promise.race([shutdown.then(() => 'shutdown' as const), half]).finally(() =>
      clearTimeout(timer),
    );
  }

  it(
    'returns once the last in-flight request has ended, long before its budget',
    { timeout: BUDGET_MS + 10_000 },
    async () => {
      h = setupTelemetry({ shutdownTimeoutMs: BUDGET_MS });
      const started = [deferred(), deferred()];
      const release = [deferred(), deferred()];
      app = Fastify();
      await app.register(stacklightPlugin, { telemetry: h.telemetry, drainGraceMs: 0 });
      app.get('/slow/:n', async (req) => {
        const n = Number((req.params as { n: string }).n);
        started[n]!.resolve();
        await release[n]!.promise;
        return 'done';
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const port = portOf(app.server);
      const first = send(port, '/slow/0');
      const second = send(port, '/slow/1');
      await Promise.all(started.map((d) => d.promise));

      let done = false;
      const shutdown = h.telemetry.shutdown().then(() => void (done = true));
      release[0]!.resolve();
      expect((await first).status).toBe(200);
      // One request still in flight: the drain waits for it.
      await new Promise((r) => setImmediate(r));
      expect(done).toBe(false);
      release[1]!.resolve();
      expect((await second).status).toBe(200);
      // The last one ended: shutdown() follows, without waiting out its budget.
      expect(await raceHalfBudget(shutdown)).toBe('shutdown');
      expect(h.count('/slow/:n', 'GET', 200)).toBe(2);
    },
  );

  it(
    'returns without waiting its budget when nothing is in flight',
    { timeout: BUDGET_MS + 10_000 },
    async () => {
      h = setupTelemetry({ shutdownTimeoutMs: BUDGET_MS });
      app = Fastify();
      await app.register(stacklightPlugin, { telemetry: h.telemetry, drainGraceMs: 0 });
      app.get('/users/:id', async () => ({ ok: true }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      expect((await send(portOf(app.server), '/users/1')).status).toBe(200);
      expect(await raceHalfBudget(h.telemetry.shutdown())).toBe('shutdown');
    },
  );
});
