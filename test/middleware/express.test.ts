import type { Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  stacklightErrorHandler,
  stacklightMiddleware,
  type HttpTelemetryOptions,
} from '../../src/express.js';
import Fastify from 'fastify';
import { stacklightPlugin } from '../../src/fastify.js';
import { getContext } from '../../src/index.js';
import { recordOf } from '../../src/middleware/record.js';
import {
  deferred,
  connectionsClosed,
  exposition,
  PARENT_SPAN_ID,
  portOf,
  sampleKey,
  send,
  sendAndAbort,
  setupTelemetry,
  TRACE_ID,
  TRACEPARENT,
  waitFor,
  type Harness,
} from './harness.js';
import { EXPRESS_MAJORS, type App } from './express-majors.js';

let h: Harness;
let server: Server | undefined;

afterEach(async () => {
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = undefined;
  }
  await h.telemetry.shutdown();
  h.logs.lines(); // every line of the test validates against the log schema
});

async function listen(app: App): Promise<number> {
  server = app.listen(0);
  await new Promise((r) => server!.once('listening', r));
  return portOf(server);
}

describe.each(EXPRESS_MAJORS)('%s middleware', (major, express) => {
  const five = major === 'Express 5';

  /** The app of most tests: plain routes, nested and parameterised routers, a sub-app. */
  function routes(app: App, hooks: { hang?: () => void } = {}): void {
    app.use(express.json());
    app.get('/users/:id', (req, res) => {
      h.telemetry.logger.info('inside handler');
      res.json({ id: req.params['id'] });
    });
    app.post('/users', (_req, res) => void res.status(201).json({ created: true }));
    app.get('/bad', (_req, res) => void res.status(400).json({ error: 'bad' }));
    app.get('/fail', (_req, _res, next) =>
      next(Object.assign(new Error('database unavailable'), { code: 'E_DB' })),
    );
    app.get('/throw', () => {
      throw new Error('sync boom');
    });
    app.get('/partial', (_req, res, next) => {
      res.write('partial body');
      setTimeout(() => next(new Error('stream broke')), 5);
    });
    app.get('/hang', () => hooks.hang?.());

    const orgs = express.Router({ mergeParams: true });
    orgs.get('/items/:itemId', (_req, res) => void res.json({ ok: true }));
    orgs.get('/', (_req, res) => void res.json({ ok: true }));
    const api = express.Router();
    api.use('/orgs/:orgId', orgs);
    api.get('/status', (_req, res) => void res.json({ ok: true }));
    app.use('/api', api);

    const shared = express.Router();
    shared.get('/ping', (_req, res) => void res.send('pong'));
    app.use('/v1', shared);
    app.use('/v2', shared);

    app.get(['/alias-a', '/alias-b'], (_req, res) => void res.send('alias'));
    const multi = express.Router();
    multi.get('/x/:id', (_req, res) => void res.send('multi'));
    app.use(['/m1', '/m2/:tenant'], multi);
    app.get(/^\/files\/.+$/, (_req, res) => void res.send('file'));

    const admin = express();
    admin.get('/stats/:day', (_req, res) => void res.json({ ok: true }));
    app.use('/admin', admin);

    app.use(stacklightErrorHandler());
  }

  async function start(
    options: HttpTelemetryOptions<never> = {},
    extra?: (app: App) => void,
    hooks?: { hang?: () => void },
  ): Promise<number> {
    h = setupTelemetry();
    const app = express();
    app.use(stacklightMiddleware(h.telemetry, options as HttpTelemetryOptions));
    extra?.(app);
    routes(app, hooks);
    return listen(app);
  }

  describe('metrics and route templates', () => {
    it('counts a known mix of requests with full templates across routers and sub-apps', async () => {
      const port = await start();
      const calls: Array<[string, number, string?]> = [
        ['/users/1', 200],
        ['/users/2', 200],
        ['/users/3?x=1', 200],
        ['/users', 201, 'POST'],
        ['/bad', 400],
        ['/fail', 500],
        ['/throw', 500],
        ['/api/orgs/42/items/7', 200],
        ['/api/orgs/43/items/8', 200],
        ['/api/orgs/44', 200],
        ['/api/status', 200],
        ['/v1/ping', 200],
        ['/v2/ping', 200],
        ['/v2/ping', 200],
        ['/alias-a', 200],
        ['/alias-b', 200],
        ['/files/report.pdf', 200],
        ['/admin/stats/monday', 200],
        ['/m1/x/1', 200],
        ['/m2/acme/x/2', 200],
        ['/m2/other/x/3', 200],
        ['/nope', 404],
      ];
      for (const [path, status, method] of calls) {
        const res = await send(
          port,
          path,
          method === undefined
            ? {}
            : { method, headers: { 'content-type': 'application/json' }, body: '{}' },
        );
        expect(res.status, path).toBe(status);
      }
      expect(h.count('/users/:id', 'GET', 200)).toBe(3);
      expect(h.count('/users', 'POST', 201)).toBe(1);
      expect(h.count('/bad', 'GET', 400)).toBe(1);
      expect(h.count('/fail', 'GET', 500)).toBe(1);
      expect(h.count('/throw', 'GET', 500)).toBe(1);
      expect(h.count('/api/orgs/:orgId/items/:itemId', 'GET', 200)).toBe(2);
      expect(h.count('/api/orgs/:orgId', 'GET', 200)).toBe(1);
      expect(h.count('/api/status', 'GET', 200)).toBe(1);
      expect(h.count('/v1/ping', 'GET', 200)).toBe(1);
      expect(h.count('/v2/ping', 'GET', 200)).toBe(2);
      expect(h.count('/alias-a|/alias-b', 'GET', 200)).toBe(2);
      expect(h.count(String(/^\/files\/.+$/), 'GET', 200)).toBe(1);
      expect(h.count('/admin/stats/:day', 'GET', 200)).toBe(1);
      expect(h.count('/m1/x/:id', 'GET', 200)).toBe(1);
      expect(h.count('/m2/:tenant/x/:id', 'GET', 200)).toBe(2);
      expect(h.count('unmatched', 'GET', 404)).toBe(1);
      expect(h.seriesCount()).toBe(16);

      const m = await exposition(h.telemetry);
      const labels = {
        service: 'edge',
        route: '/api/orgs/:orgId/items/:itemId',
        method: 'GET',
        code: '200',
      };
      expect(m.get(sampleKey('http_requests_total', labels))).toBe(2);
      expect(m.get(sampleKey('http_request_duration_seconds_count', labels))).toBe(2);
      expect(
        [...m.keys()].some((k) => k.includes('/42') || k.includes('monday') || k.includes('acme')),
      ).toBe(false);
    });

    // 1 000 real connections: on a loaded 2-core machine this takes more than
    // the default 20 s; the timeout only bounds a hang.
    it('keeps one series for 1 000 distinct unknown URLs', { timeout: 120_000 }, async () => {
      const port = await start();
      await send(port, '/users/1');
      const before = h.seriesCount();
      await Promise.all(
        Array.from({ length: 10 }, async (_, w) => {
          for (let i = 0; i < 100; i++)
            expect((await send(port, `/random/${w}/${i}/${Math.random()}`)).status).toBe(404);
        }),
      );
      expect(h.seriesCount()).toBe(before + 1);
      expect(h.count('unmatched', 'GET', 404)).toBe(1000);
    });

    it('gives log lines written inside a handler the route template', async () => {
      const port = await start();
      await send(port, '/users/5', { headers: { 'x-request-id': 'rid-5' } });
      const [inside, done] = h.logs.lines();
      expect(inside).toMatchObject({
        msg: 'inside handler',
        requestId: 'rid-5',
        route: '/users/:id',
        method: 'GET',
      });
      expect(done).toMatchObject({
        msg: 'request completed',
        requestId: 'rid-5',
        route: '/users/:id',
        status: 200,
        level: 'info',
      });
      expect(inside!['spanId']).toBe(done!['spanId']);
    });

    it('names requests answered by middleware before routing with getContext().route', async () => {
      const port = await start({}, (app) =>
        app.use('/private', (_req, res) => {
          getContext()!.route = '/private/*';
          res.status(401).end();
        }),
      );
      expect((await send(port, '/private/x/y')).status).toBe(401);
      expect(h.count('/private/*', 'GET', 401)).toBe(1);
    });

    it('records a request once when the middleware is registered twice', async () => {
      h = setupTelemetry();
      const app = express();
      const mw = stacklightMiddleware(h.telemetry);
      app.use(mw);
      app.use(mw);
      app.get('/once', (_req, res) => void res.send('ok'));
      const port = await listen(app);
      await send(port, '/once');
      expect(h.count('/once', 'GET', 200)).toBe(1);
      expect(h.requestLines()).toHaveLength(1);
    });

    it('records a request once when an app and its sub-app each register the middleware', async () => {
      h = setupTelemetry();
      const app = express();
      const sub = express();
      app.use(stacklightMiddleware(h.telemetry));
      sub.use(stacklightMiddleware(h.telemetry));
      sub.get('/items/:id', (_req, res) => void res.send('ok'));
      app.use('/sub', sub);
      const port = await listen(app);
      await send(port, '/sub/items/1');
      expect(h.count('/sub/items/:id', 'GET', 200)).toBe(1);
      expect(h.requestLines()).toHaveLength(1);
    });

    it('records a request once when the app is mounted in Fastify with the stacklight plugin', async () => {
      h = setupTelemetry();
      const inner = express();
      inner.use(stacklightMiddleware(h.telemetry));
      inner.get('/legacy/:id', (_req, res) => void res.send('ok'));
      const outer = Fastify();
      await outer.register(stacklightPlugin, { telemetry: h.telemetry });
      // What @fastify/express and @fastify/middie do: the raw request and
      // response go through the Express app.
      outer.get('/legacy/:id', (request, reply) => {
        reply.hijack();
        inner(request.raw, reply.raw);
      });
      await outer.listen({ port: 0, host: '127.0.0.1' });
      try {
        const port = (outer.server.address() as { port: number }).port;
        expect((await send(port, '/legacy/7')).status).toBe(200);
        // Both would record on the same 'finish' event: a second line is there by now.
        await waitFor(() => h.requestLines().length >= 1);
        expect(h.requestLines()).toHaveLength(1);
        expect(h.count('/legacy/:id', 'GET', 200)).toBe(1);
      } finally {
        await outer.close();
      }
    });

    it('holds on to a request only until it is recorded', async () => {
      h = setupTelemetry();
      const app = express();
      app.use(stacklightMiddleware(h.telemetry));
      let response: ServerResponse | undefined;
      let during = false;
      app.get('/r', (_req, res) => {
        response = res;
        during = recordOf(res) !== undefined;
        res.send('ok');
      });
      const port = await listen(app);
      await send(port, '/r');
      await waitFor(() => h.requestLines().length === 1);
      expect(during).toBe(true);
      expect(recordOf(response)).toBeUndefined();
    });
  });

  describe('request ids', () => {
    it('echoes a well-formed id and regenerates a 10 KB, non-ASCII or odd one', async () => {
      const port = await start();
      const ok = await send(port, '/users/1', { headers: { 'x-request-id': 'abc-123' } });
      expect(ok.headers['x-request-id']).toBe('abc-123');
      const long = await send(port, '/users/1', {
        headers: { 'x-request-id': 'x'.repeat(10 * 1024) },
      });
      expect(long.headers['x-request-id']).toMatch(/^[A-Za-z0-9_-]{12}-[0-9a-z]+$/);
      const odd = await send(port, '/users/1', { headers: { 'x-request-id': 'a;b=c' } });
      expect(odd.headers['x-request-id']).toMatch(/^[A-Za-z0-9_-]{12}-[0-9a-z]+$/);
      // Non-ASCII bytes on the wire (node's client refuses to send them).
      const raw = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            Buffer.concat([
              Buffer.from(
                'GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: id-',
              ),
              Buffer.from('über', 'utf8'),
              Buffer.from('\r\n\r\n'),
            ]),
          );
        });
        let data = '';
        socket.on('data', (c) => (data += c.toString('latin1')));
        socket.on('end', () => resolve(data));
        socket.on('error', reject);
      });
      expect(raw).toMatch(/^HTTP\/1\.1 200/);
      expect(raw).toMatch(/\r\nx-request-id: [A-Za-z0-9_-]{12}-[0-9a-z]+\r\n/i);
      expect(h.requestLines().map((l) => l['requestId'])).toEqual([
        'abc-123',
        long.headers['x-request-id'],
        odd.headers['x-request-id'],
        /x-request-id: (\S+)/i.exec(raw)![1],
      ]);
    });
  });

  describe('traces', () => {
    it('continues the incoming trace and names the span once the route is known', async () => {
      const port = await start();
      await send(port, '/api/orgs/42/items/7?token=secret', {
        headers: { traceparent: TRACEPARENT, 'user-agent': 'curl/8' },
      });
      const [span] = h.spans();
      expect(span!.name).toBe('HTTP /api/orgs/:orgId/items/:itemId');
      expect(span!.kind).toBe(SpanKind.SERVER);
      expect(span!.spanContext().traceId).toBe(TRACE_ID);
      expect(span!.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
      expect(span!.attributes).toEqual({
        'http.request.method': 'GET',
        'http.route': '/api/orgs/:orgId/items/:itemId',
        'http.response.status_code': 200,
        'url.scheme': 'http',
        'network.protocol.version': '1.1',
      });
      expect(h.requestLines()[0]).toMatchObject({
        traceId: TRACE_ID,
        spanId: span!.spanContext().spanId,
      });
    });

    it('starts a new trace for a malformed traceparent', async () => {
      const port = await start();
      const res = await send(port, '/users/1', {
        headers: { traceparent: `00-${TRACE_ID}-${PARENT_SPAN_ID}-zz` },
      });
      expect(res.status).toBe(200);
      const [span] = h.spans();
      expect(span!.spanContext().traceId).not.toBe(TRACE_ID);
      expect(span!.parentSpanContext).toBeUndefined();
    });

    it('starts no span for literal paths excluded from traces', async () => {
      const port = await start({ excludeFromTraces: ['/api/status'] });
      await send(port, '/api/status');
      await send(port, '/users/1');
      expect(h.spans().map((s) => s.name)).toEqual(['HTTP /users/:id']);
      expect(h.count('/api/status', 'GET', 200)).toBe(1);
    });
  });

  describe('errors', () => {
    it.each([
      ['next(err)', '/fail', 'database unavailable'],
      ['a thrown error', '/throw', 'sync boom'],
    ])(
      'answers %s with 500, one log line, an ERROR span and one onError call',
      async (_name, path, message) => {
        const onError = vi.fn();
        const port = await start({ onError });
        const res = await send(port, path, { headers: { 'x-request-id': 'rid-err' } });
        expect(res.status).toBe(500);
        expect(JSON.parse(res.body)).toEqual({
          error: 'Internal Server Error',
          requestId: 'rid-err',
        });
        expect(h.count(path, 'GET', 500)).toBe(1);
        const lines = h.logs.lines();
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({
          level: 'error',
          msg: 'request failed',
          route: path,
          status: 500,
          error: { message },
        });
        const [span] = h.spans();
        expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message });
        expect(span!.events.map((e) => e.name)).toEqual(['exception']);
        expect(onError).toHaveBeenCalledTimes(1);
        expect(onError.mock.calls[0]![1]).toMatchObject({ requestId: 'rid-err', route: path });
      },
    );

    it.runIf(five)('handles a rejected async handler (Express 5)', async () => {
      const port = await start({}, (app) =>
        app.get('/reject', async () => {
          throw new Error('async boom');
        }),
      );
      expect((await send(port, '/reject')).status).toBe(500);
      expect(h.count('/reject', 'GET', 500)).toBe(1);
      expect(h.requestLines()[0]).toMatchObject({ error: { message: 'async boom' } });
    });

    it('records a failure after the headers were sent as a 500 and closes the connection', async () => {
      const port = await start();
      await expect(send(port, '/partial')).rejects.toThrow();
      await waitFor(() => h.count('/partial', 'GET', 500) === 1);
      expect(h.requestLines()).toHaveLength(1);
      expect(h.requestLines()[0]).toMatchObject({
        status: 500,
        error: { message: 'stream broke' },
      });
    });

    it('passes the error on with respond: false', async () => {
      h = setupTelemetry();
      const app = express();
      app.use(stacklightMiddleware(h.telemetry));
      app.get('/fail', (_req, _res, next) => next(new Error('boom')));
      app.use(stacklightErrorHandler({ respond: false }));
      app.use(
        (
          _err: unknown,
          _req: unknown,
          res: { status(n: number): { send(b: string): void } },
          _next: unknown,
        ) => res.status(503).send('mine'),
      );
      const port = await listen(app);
      const res = await send(port, '/fail');
      expect([res.status, res.body]).toEqual([503, 'mine']);
      expect(h.requestLines()[0]).toMatchObject({ status: 503, error: { message: 'boom' } });
    });

    it('answers a body-parser error with its status and exposed message (before routing: unmatched)', async () => {
      const port = await start();
      const res = await send(port, '/users', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"broken',
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({
        error: 'Bad Request',
        message: expect.any(String),
      });
      expect(h.count('unmatched', 'POST', 400)).toBe(1);
      expect(h.requestLines()[0]).toMatchObject({ level: 'warn', status: 400 });
    });
  });

  describe('aborts', () => {
    it('counts a request whose client went away exactly once, as 499', async () => {
      const started = deferred();
      const port = await start({}, undefined, { hang: () => started.resolve() });
      await sendAndAbort(port, '/hang', started.promise);
      await waitFor(() => h.count('/hang', 'GET', 499) === 1);
      await connectionsClosed(server!);
      expect(h.count('/hang', 'GET', 499)).toBe(1);
      const lines = h.requestLines();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 'warn',
        msg: 'request aborted',
        status: 499,
        route: '/hang',
      });
      const [span] = h.spans();
      expect(span!.attributes['error.type']).toBe('aborted');
      expect(span!.attributes['http.response.status_code']).toBeUndefined();
      expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    });
  });
});
