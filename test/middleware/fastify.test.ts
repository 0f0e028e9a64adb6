import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import Fastify, { type FastifyInstance, type FastifyTypeProvider } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { stacklightPlugin, type StacklightFastifyOptions } from '../../src/fastify.js';
import {
  exposition,
  PARENT_SPAN_ID,
  sampleKey,
  setupTelemetry,
  TRACE_ID,
  TRACEPARENT,
  type Harness,
  type HarnessOptions,
} from './harness.js';

let h: Harness;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  await h.telemetry.shutdown();
  h.logs.lines(); // every line of the test validates against the log schema
});

async function build(
  options: Omit<StacklightFastifyOptions, 'telemetry'> = {},
  routes: (app: FastifyInstance) => void = defaultRoutes,
  harness: HarnessOptions = {},
): Promise<FastifyInstance> {
  h = setupTelemetry(harness);
  app = Fastify();
  await app.register(stacklightPlugin, { telemetry: h.telemetry, ...options });
  routes(app);
  await app.ready();
  return app;
}

function defaultRoutes(f: FastifyInstance): void {
  f.get('/users/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  f.post('/users', async (_request, reply) => reply.code(201).send({ created: true }));
  f.get('/bad', async (_request, reply) => reply.code(400).send({ error: 'bad' }));
  f.get('/fail', async () => {
    throw Object.assign(new Error('database unavailable'), { code: 'E_DB' });
  });
  f.register(
    async (api) => {
      api.get('/items/:itemId', async () => ({ ok: true }));
      api.register(async (v2) => v2.get('/things/:thingId', async () => ({ ok: true })), {
        prefix: '/v2',
      });
    },
    { prefix: '/api' },
  );
}

describe('fastify plugin: metrics', () => {
  it('keeps counting every request after the request metrics are reset', async () => {
    const f = await build();
    for (let i = 0; i < 3; i++) await f.inject('/users/1');
    expect(h.count('/users/:id', 'GET', 200)).toBe(3);
    h.telemetry.metrics.httpRequestsTotal.reset();
    h.telemetry.metrics.httpRequestDurationSeconds.reset();
    for (let i = 0; i < 2; i++) await f.inject('/users/1');
    expect(h.count('/users/:id', 'GET', 200)).toBe(2);
    const d = h.telemetry.metrics.httpRequestDurationSeconds.read({
      route: '/users/:id',
      method: 'GET',
      code: '200',
    });
    expect(d.count).toBe(2);
  });

  it('sends requests past the series cap to the overflow series, counting each one', async () => {
    const f = await build({}, defaultRoutes, { maxSeriesPerMetric: 2 });
    await f.inject('/users/1'); // series 1
    await f.inject('/bad'); // series 2
    for (let i = 0; i < 3; i++) await f.inject({ method: 'POST', url: '/users' }); // over the cap
    await f.inject('/users/2'); // still its own series
    expect(h.count('/users/:id', 'GET', 200)).toBe(2);
    expect(h.count('__overflow__', 'POST', 201)).toBe(3);
    expect(
      h.telemetry.selfMetrics.seriesOverflowTotal.read({ metric: 'http_requests_total' }),
    ).toBe(3);
    expect(h.seriesCount()).toBe(3);
  });

  it('counts a known mix of requests per route template, method and code', async () => {
    const f = await build();
    for (const id of ['1', '2', '3']) expect((await f.inject(`/users/${id}`)).statusCode).toBe(200);
    expect(
      (await f.inject({ method: 'POST', url: '/users', payload: { name: 'a' } })).statusCode,
    ).toBe(201);
    expect((await f.inject('/bad')).statusCode).toBe(400);
    expect((await f.inject('/fail')).statusCode).toBe(500);
    expect((await f.inject('/fail')).statusCode).toBe(500);
    expect((await f.inject('/api/items/9')).statusCode).toBe(200);
    expect((await f.inject('/api/v2/things/x')).statusCode).toBe(200);
    expect((await f.inject('/api/v2/things/y')).statusCode).toBe(200);
    expect((await f.inject('/nope')).statusCode).toBe(404);
    expect((await f.inject({ method: 'HEAD', url: '/users/1' })).statusCode).toBe(200);

    expect(h.count('/users/:id', 'GET', 200)).toBe(3);
    expect(h.count('/users', 'POST', 201)).toBe(1);
    expect(h.count('/bad', 'GET', 400)).toBe(1);
    expect(h.count('/fail', 'GET', 500)).toBe(2);
    expect(h.count('/api/items/:itemId', 'GET', 200)).toBe(1);
    expect(h.count('/api/v2/things/:thingId', 'GET', 200)).toBe(2);
    expect(h.count('unmatched', 'GET', 404)).toBe(1);
    expect(h.count('/users/:id', 'HEAD', 200)).toBe(1);
    expect(h.seriesCount()).toBe(8);

    const m = await exposition(h.telemetry);
    const users = { service: 'edge', route: '/users/:id', method: 'GET', code: '200' };
    expect(m.get(sampleKey('http_requests_total', users))).toBe(3);
    expect(m.get(sampleKey('http_requests_total', { ...users, route: '/fail', code: '500' }))).toBe(
      2,
    );
    expect(
      m.get(sampleKey('http_requests_total', { ...users, route: 'unmatched', code: '404' })),
    ).toBe(1);
    expect(m.get(sampleKey('http_request_duration_seconds_count', users))).toBe(3);
    expect(m.get(sampleKey('http_request_duration_seconds_bucket', { ...users, le: '+Inf' }))).toBe(
      3,
    );
    const sum = m.get(sampleKey('http_request_duration_seconds_sum', users))!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(3);
  });

  it('keeps one series for 1 000 distinct unknown URLs', async () => {
    const f = await build();
    await f.inject('/users/1');
    const before = h.seriesCount();
    for (let i = 0; i < 1000; i++) {
      const res = await f.inject(`/random/${i}/${Math.random().toString(36).slice(2)}?q=${i}`);
      expect(res.statusCode).toBe(404);
    }
    expect(h.seriesCount()).toBe(before + 1);
    expect(h.count('unmatched', 'GET', 404)).toBe(1000);
    const text = await h.telemetry.metricsText();
    expect(text).not.toContain('/random/');
  });

  it('folds methods outside the standard set into _OTHER', async () => {
    const f = await build({}, (f) => {
      f.addHttpMethod('PROPFIND', { hasBody: true });
      f.route({ method: 'PROPFIND', url: '/dav/:file', handler: async () => ({ ok: true }) });
    });
    expect((await f.inject({ method: 'PROPFIND', url: '/dav/a' })).statusCode).toBe(200);
    expect(h.count('/dav/:file', '_OTHER', 200)).toBe(1);
    const [span] = h.spans();
    expect(span!.attributes['http.request.method']).toBe('_OTHER');
    expect(span!.attributes['http.request.method_original']).toBe('PROPFIND');
  });

  it('excludes its own endpoints from metrics and logs by default, and honours excludeFromMetrics', async () => {
    const f = await build({
      metricsEndpoint: true,
      healthEndpoint: true,
      readinessEndpoint: true,
      excludeFromLogs: ['/healthz', '/readyz', '/metrics', '/bad'],
    });
    await f.inject('/healthz');
    await f.inject('/readyz');
    await f.inject('/metrics');
    await f.inject('/bad');
    expect(h.count('/healthz', 'GET', 200)).toBe(0);
    expect(h.count('/metrics', 'GET', 200)).toBe(0);
    expect(h.count('/bad', 'GET', 400)).toBe(1);
    expect(h.requestLines()).toHaveLength(0);
    expect(h.spans()).toHaveLength(1); // /bad only: the endpoints are never traced
  });

  it('records the endpoints when the exclusion lists are emptied', async () => {
    const f = await build({ healthEndpoint: true, excludeFromMetrics: [], excludeFromLogs: [] });
    await f.inject('/healthz');
    expect(h.count('/healthz', 'GET', 200)).toBe(1);
    expect(h.requestLines().map((l) => l['route'])).toEqual(['/healthz']);
  });

  it('lets a route opt out entirely or in part through its config', async () => {
    const f = await build({}, (f) => {
      f.get('/stream', { config: { stacklight: false } }, async (request) => ({
        ctx: request.telemetry,
      }));
      f.get('/quiet', { config: { stacklight: { logs: false, traces: false } } }, async () => 'ok');
    });
    const res = await f.inject('/stream');
    expect(res.json()).toEqual({ ctx: null });
    expect(res.headers['x-request-id']).toBeUndefined();
    await f.inject('/quiet');
    expect(h.count('/stream', 'GET', 200)).toBe(0);
    expect(h.count('/quiet', 'GET', 200)).toBe(1);
    expect(h.requestLines()).toHaveLength(0);
    expect(h.spans()).toHaveLength(0);
  });

  it('records routes registered before the plugin and a custom not-found handler', async () => {
    h = setupTelemetry();
    app = Fastify();
    app.get('/early/:id', async () => 'early');
    app.setNotFoundHandler(async (_request, reply) => reply.code(404).send({ missing: true }));
    await app.register(stacklightPlugin, { telemetry: h.telemetry });
    app.get('/late/:id', async () => 'late');
    await app.ready();
    await app.inject('/early/1');
    await app.inject('/early/2');
    await app.inject('/late/1');
    expect((await app.inject('/nowhere')).json()).toEqual({ missing: true });
    expect(h.count('/early/:id', 'GET', 200)).toBe(2);
    expect(h.count('/late/:id', 'GET', 200)).toBe(1);
    expect(h.count('unmatched', 'GET', 404)).toBe(1);
    expect(h.spans().map((s) => s.name)).toEqual([
      'HTTP /early/:id',
      'HTTP /early/:id',
      'HTTP /late/:id',
      'HTTP GET',
    ]);
  });

  it('fails at registration without a telemetry handle or with an unknown option', async () => {
    h = setupTelemetry();
    app = Fastify();
    await expect(app.register(stacklightPlugin, {} as StacklightFastifyOptions)).rejects.toThrow(
      'stacklight: telemetry must be the Telemetry handle returned by init(), got undefined',
    );
    const other = Fastify();
    await expect(
      other.register(stacklightPlugin, { telemetry: h.telemetry, metricEndpoint: true } as never),
    ).rejects.toThrow(/^stacklight: metricEndpoint must be a known option/);
    await other.close();
  });

  it('fails at registration on an invalid per-route config', async () => {
    h = setupTelemetry();
    app = Fastify();
    await app.register(stacklightPlugin, { telemetry: h.telemetry });
    expect(() =>
      app!.get('/x', { config: { stacklight: 'no' as never } }, async () => 'x'),
    ).toThrow(
      'stacklight: route /x config.stacklight must be true, false or { metrics?, logs?, traces? }, got "no"',
    );
  });
});

describe('fastify plugin: types', () => {
  it('registers on an instance with a custom type provider', async () => {
    interface StringProvider extends FastifyTypeProvider {
      validator: string;
      serializer: string;
    }
    h = setupTelemetry();
    const typed = Fastify().withTypeProvider<StringProvider>();
    app = typed as unknown as FastifyInstance;
    await typed.register(stacklightPlugin, {
      telemetry: h.telemetry,
      userId: (request) => request.headers['x-user'] as string,
    });
    typed.get(
      '/typed',
      { config: { stacklight: { logs: false } } },
      async (request) => request.telemetry?.requestId ?? 'none',
    );
    await typed.ready();
    const res = await typed.inject('/typed');
    expect(res.body).toBe(res.headers['x-request-id']);
  });
});

describe('fastify plugin: request id and context', () => {
  it('echoes a well-formed x-request-id and puts it on the log line', async () => {
    const f = await build();
    const res = await f.inject({
      url: '/users/7',
      headers: { 'x-request-id': 'req-123.abc:def_X' },
    });
    expect(res.headers['x-request-id']).toBe('req-123.abc:def_X');
    const [line] = h.requestLines();
    expect(line).toMatchObject({
      requestId: 'req-123.abc:def_X',
      route: '/users/:id',
      method: 'GET',
      status: 200,
      level: 'info',
      msg: 'request completed',
    });
    expect(typeof line!['latency_ms']).toBe('number');
  });

  it('never logs an incoming request id that is a token: the line says [JWT]', async () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl';
    const f = await build();
    const res = await f.inject({ url: '/users/7', headers: { 'x-request-id': jwt } });
    // The caller's own value goes back to the caller only.
    expect(res.headers['x-request-id']).toBe(jwt);
    expect(h.requestLines()[0]!['requestId']).toBe('[JWT]');
    expect(h.logs.lines().some((l) => JSON.stringify(l).includes('eyJhbGci'))).toBe(false);
    const spans = h.spans();
    expect(spans.map((sp) => sp.attributes['http.route'])).toContain('/users/:id');
    expect(spans.some((sp) => JSON.stringify(sp.attributes).includes('eyJhbGci'))).toBe(false);
    const metrics = await h.telemetry.metricsText();
    expect(metrics).toContain('route="/users/:id"');
    expect(metrics).not.toContain('eyJhbGci');
  });

  it.each([
    ['CRLF', 'abc\r\nx-injected: 1'],
    ['10 KB', 'a'.repeat(10 * 1024)],
    ['129 characters', 'b'.repeat(129)],
    ['non-ASCII', 'id-über-✓'],
    ['spaces and quotes', 'a b"c'],
    ['empty', ''],
  ])('replaces a rejected request id (%s) with a generated one', async (_name, id) => {
    const f = await build();
    const res = await f.inject({ url: '/users/1', headers: { 'x-request-id': id } });
    const echoed = res.headers['x-request-id'] as string;
    expect(echoed).not.toBe(id);
    expect(echoed).toMatch(/^[A-Za-z0-9_-]{12}-[0-9a-z]+$/);
    expect(h.requestLines()[0]!['requestId']).toBe(echoed);
  });

  it('echoes the request id on every kind of answer, and on none for a hijacked reply', async () => {
    const f = await build({ metricsEndpoint: true }, (f) => {
      defaultRoutes(f);
      f.get('/custom-headers', async (_request, reply) =>
        reply.header('x-own', 'kept').header('cache-control', 'no-store').send('ok'),
      );
      f.get('/raw-header', async (_request, reply) => {
        reply.raw.setHeader('x-raw', 'also kept');
        return 'ok';
      });
      f.get('/hijacked', (request, reply) => {
        reply.hijack();
        reply.raw.writeHead(200, { 'x-request-id': request.telemetry!.requestId });
        reply.raw.end('raw');
      });
    });
    for (const url of ['/users/1', '/bad', '/fail', '/nope', '/custom-headers', '/metrics']) {
      const res = await f.inject({ url, headers: { 'x-request-id': `id-${url.length}` } });
      expect(res.headers['x-request-id'], url).toBe(`id-${url.length}`);
    }
    const own = await f.inject('/custom-headers');
    expect(own.headers['x-own']).toBe('kept');
    expect(own.headers['cache-control']).toBe('no-store');
    const raw = await f.inject('/raw-header');
    expect(raw.headers['x-raw']).toBe('also kept');
    expect(raw.headers['x-request-id']).toBe(h.requestLines().at(-1)!['requestId']);
    // A hijacked reply writes its own headers; the id is on request.telemetry.
    const hijacked = await f.inject({ url: '/hijacked', headers: { 'x-request-id': 'hj-1' } });
    expect(hijacked.headers['x-request-id']).toBe('hj-1');
  });

  it('generates a distinct id per request when none is sent', async () => {
    const f = await build();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++)
      ids.add((await f.inject('/users/1')).headers['x-request-id'] as string);
    expect(ids.size).toBe(50);
  });

  it('ignores incoming ids with trustRequestId: false and honours requestIdHeader', async () => {
    const f = await build({ trustRequestId: false, requestIdHeader: 'X-Correlation-Id' });
    const res = await f.inject({ url: '/users/1', headers: { 'x-correlation-id': 'from-client' } });
    expect(res.headers['x-correlation-id']).not.toBe('from-client');
    expect(res.headers['x-request-id']).toBeUndefined();
  });

  it('exposes the context on request.telemetry and to the logger inside the handler', async () => {
    const f = await build({}, (f) =>
      f.get('/who/:id', async (request) => {
        request.telemetry!.userId = 'u-42';
        h.telemetry.logger.info('inside handler');
        return { requestId: request.telemetry!.requestId };
      }),
    );
    const res = await f.inject({
      url: '/who/1',
      headers: { 'x-request-id': 'rid-1', traceparent: TRACEPARENT },
    });
    expect(res.json()).toEqual({ requestId: 'rid-1' });
    const [inside, done] = h.logs.lines();
    expect(inside).toMatchObject({
      msg: 'inside handler',
      requestId: 'rid-1',
      route: '/who/:id',
      method: 'GET',
      userId: 'u-42',
      traceId: TRACE_ID,
    });
    expect(done).toMatchObject({ msg: 'request completed', userId: 'u-42', traceId: TRACE_ID });
    expect(inside!['spanId']).toBe(done!['spanId']);
  });

  it('takes userId from the callback after auth, never an e-mail, and survives a throwing callback', async () => {
    const f = await build(
      {
        userId: (request) => {
          const u = request.headers['x-user'];
          if (u === 'boom') throw new Error('auth state broken');
          return u as string | undefined;
        },
      },
      defaultRoutes,
    );
    await f.inject({ url: '/users/1', headers: { 'x-user': 'u-1' } });
    await f.inject({ url: '/users/1', headers: { 'x-user': 'jane@example.com' } });
    await f.inject({ url: '/users/1', headers: { 'x-user': 'jane@example.com' } });
    const res = await f.inject({ url: '/users/1', headers: { 'x-user': 'boom' } });
    await f.inject({ url: '/users/1', headers: { 'x-user': 'boom' } });
    expect(res.statusCode).toBe(200);
    const lines = h.requestLines();
    expect(lines.map((l) => l['userId'])).toEqual([
      'u-1',
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(h.logs.text()).not.toContain('jane@example.com');
    const warnings = h.logs
      .lines()
      .filter((l) => l['level'] === 'warn')
      .map((l) => l['msg']);
    expect(warnings).toEqual([
      'stacklight/fastify: the userId callback returned an e-mail address; it is not used (return an opaque id)',
      'stacklight/fastify: the userId callback threw; requests are logged without userId',
    ]);
    expect(h.telemetry.selfMetrics.internalErrorsTotal.read({ component: 'http_user_id' })).toBe(4);
  });
});

describe('fastify plugin: log lines', () => {
  it('writes one line per request at a level chosen by status class', async () => {
    const f = await build();
    await f.inject('/users/1');
    await f.inject('/bad');
    await f.inject('/nope');
    await f.inject('/fail');
    const lines = h.requestLines();
    expect(lines.map((l) => [l['route'], l['status'], l['level']])).toEqual([
      ['/users/:id', 200, 'info'],
      ['/bad', 400, 'warn'],
      ['unmatched', 404, 'warn'],
      ['/fail', 500, 'error'],
    ]);
  });

  it('uses the configured levels and writes nothing for silent', async () => {
    const f = await build({
      logLevels: { success: 'silent', clientError: 'info', serverError: 'fatal' },
    });
    await f.inject('/users/1');
    await f.inject('/bad');
    await f.inject('/fail');
    expect(h.requestLines().map((l) => [l['status'], l['level']])).toEqual([
      [400, 'info'],
      [500, 'fatal'],
    ]);
  });
});

describe('fastify plugin: traces', () => {
  it('continues the incoming trace with a SERVER span named by template', async () => {
    const f = await build();
    const res = await f.inject({
      url: '/api/items/3?secret=1',
      headers: { traceparent: TRACEPARENT, tracestate: 'congo=t61', 'user-agent': 'curl/8' },
    });
    expect(res.statusCode).toBe(200);
    const [span] = h.spans();
    expect(span!.name).toBe('HTTP /api/items/:itemId');
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_SPAN_ID);
    expect(span!.spanContext().traceState?.get('congo')).toBe('t61');
    expect(span!.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/api/items/:itemId',
      'http.response.status_code': 200,
      'url.scheme': 'http',
      'network.protocol.version': '1.1',
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    const [line] = h.requestLines();
    expect(line).toMatchObject({ traceId: TRACE_ID, spanId: span!.spanContext().spanId });
  });

  it.each([
    ['bad version', `ff-${TRACE_ID}-${PARENT_SPAN_ID}-01`],
    ['zero trace id', `00-${'0'.repeat(32)}-${PARENT_SPAN_ID}-01`],
    ['upper case', `00-${TRACE_ID.toUpperCase()}-${PARENT_SPAN_ID}-01`],
    ['garbage', 'not a traceparent'],
  ])('starts a new trace for a malformed traceparent (%s)', async (_name, traceparent) => {
    const f = await build();
    const res = await f.inject({ url: '/users/1', headers: { traceparent } });
    expect(res.statusCode).toBe(200);
    const [span] = h.spans();
    expect(span!.spanContext().traceId).not.toBe(TRACE_ID);
    expect(span!.parentSpanContext).toBeUndefined();
    expect(h.requestLines()[0]!['traceId']).toBe(span!.spanContext().traceId);
  });

  it('names unmatched requests by method and sets no http.route', async () => {
    const f = await build();
    await f.inject('/no/such/path');
    const [span] = h.spans();
    expect(span!.name).toBe('HTTP GET');
    expect(span!.attributes['http.route']).toBeUndefined();
    expect(span!.attributes['http.response.status_code']).toBe(404);
  });

  it('does no span work for unsampled requests but still counts and logs them', async () => {
    const f = await build({}, defaultRoutes, { sampler: 'always_off' });
    await f.inject('/users/1');
    expect(h.spans()).toHaveLength(0);
    expect(h.count('/users/:id', 'GET', 200)).toBe(1);
    expect(h.requestLines()).toHaveLength(1);
  });

  it('keeps the incoming trace id on the log line of a route excluded from traces', async () => {
    const f = await build({ excludeFromTraces: ['/users/:id'] });
    await f.inject({ url: '/users/1', headers: { traceparent: TRACEPARENT } });
    expect(h.spans()).toHaveLength(0);
    expect(h.requestLines()[0]).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_SPAN_ID });
  });

  it('starts no span at all when tracing is off', async () => {
    const f = await build({}, defaultRoutes, { tracing: false });
    const res = await f.inject({ url: '/users/1', headers: { traceparent: TRACEPARENT } });
    expect(res.statusCode).toBe(200);
    expect(h.spans()).toHaveLength(0);
    expect(h.count('/users/:id', 'GET', 200)).toBe(1);
    expect(h.requestLines()[0]!['traceId']).toBeUndefined();
  });
});

describe('fastify plugin: errors', () => {
  it('counts a thrown error as 500, logs it once, marks the span and calls onError once', async () => {
    const onError = vi.fn();
    const f = await build({ onError });
    const res = await f.inject({ url: '/fail', headers: { 'x-request-id': 'rid-fail' } });
    expect(res.statusCode).toBe(500);
    expect(h.count('/fail', 'GET', 500)).toBe(1);

    const lines = h.logs.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: 'request failed',
      requestId: 'rid-fail',
      route: '/fail',
      status: 500,
      error: { type: 'Error', code: 'E_DB', message: 'database unavailable' },
    });
    expect((lines[0]!['error'] as { stack?: string }).stack).toContain('database unavailable');

    const [span] = h.spans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'database unavailable' });
    expect(span!.attributes['error.type']).toBe('Error');
    expect(span!.events.map((e) => e.name)).toEqual(['exception']);

    expect(onError).toHaveBeenCalledTimes(1);
    expect((onError.mock.calls[0]![0] as Error).message).toBe('database unavailable');
    expect(onError.mock.calls[0]![1]).toMatchObject({
      requestId: 'rid-fail',
      route: '/fail',
      method: 'GET',
    });
  });

  it('logs the validation error of a 4xx on its warn line without marking the span', async () => {
    const onError = vi.fn();
    const f = await build({ onError }, (f) =>
      f.post(
        '/orders',
        {
          schema: {
            body: { type: 'object', required: ['qty'], properties: { qty: { type: 'integer' } } },
          },
        },
        async () => 'ok',
      ),
    );
    const res = await f.inject({ method: 'POST', url: '/orders', payload: {} });
    expect(res.statusCode).toBe(400);
    const [line] = h.requestLines();
    expect(line).toMatchObject({
      level: 'warn',
      status: 400,
      msg: 'request failed',
      error: { code: 'FST_ERR_VALIDATION' },
    });
    expect(h.spans()[0]!.status.code).toBe(SpanStatusCode.UNSET);
    expect(onError).not.toHaveBeenCalled();
  });

  it('counts and survives a throwing onError hook', async () => {
    const f = await build({
      onError: () => {
        throw new Error('sentry down');
      },
    });
    expect((await f.inject('/fail')).statusCode).toBe(500);
    expect((await f.inject('/fail')).statusCode).toBe(500);
    expect(h.telemetry.selfMetrics.internalErrorsTotal.read({ component: 'http_on_error' })).toBe(
      2,
    );
  });

  it('warns once when Fastify would log requests and errors itself', async () => {
    h = setupTelemetry();
    app = Fastify({ logger: { level: 'info', stream: { write: () => undefined } } });
    await app.register(stacklightPlugin, { telemetry: h.telemetry });
    await app.ready();
    expect(h.logs.lines().map((l) => l['msg'])).toEqual([
      "stacklight/fastify: Fastify's own request logging is on, so requests and errors are logged twice. Create Fastify without a logger (the default) or with `logController: new LogController({ disableRequestLogging: true })`.",
    ]);
  });
});
