/**
 * Every private internal stacklight reads of a dependency sits behind a
 * version guard (src/internals/). These tests run each fast path and its
 * public path on the same input and require the same user-visible result
 * (log lines, flushed files, route templates, exported spans), and check
 * that a version outside the tested range takes the public path with one
 * diagnostic.
 */
import { readFileSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  context,
  createContextKey,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
} from '@opentelemetry/api';
import express5 from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { runWithContext, type TelemetryContext } from '../../src/context.js';
import { stacklightPlugin } from '../../src/fastify.js';
import { init } from '../../src/index.js';
import { EXPRESS, expressGuard } from '../../src/internals/express.js';
import { FASTIFY, fastifyGuard } from '../../src/internals/fastify.js';
import {
  decide,
  inTestedRange,
  installedVersion,
  reportGuard,
  type Guard,
} from '../../src/internals/guard.js';
import { NODE, nodeGuard } from '../../src/internals/node.js';
import { OTEL_API, otelApiGuard } from '../../src/internals/otel-api.js';
import { OTEL_SDK, otelSdkGuard } from '../../src/internals/otel-sdk.js';
import { PINO, pinoGuard } from '../../src/internals/pino.js';
import { SONIC_BOOM, sonicBoomGuard } from '../../src/internals/sonic-boom.js';
import { createLogger, createRedactor } from '../../src/logging/index.js';
import { requestLineOf } from '../../src/logging/request-line.js';
import { expressRouteTemplate } from '../../src/middleware/express/route-template.js';
import { fastifyLogsRequests } from '../../src/middleware/fastify/plugin.js';
import type { HttpLifecycle } from '../../src/middleware/lifecycle.js';
import { watchClientErrors } from '../../src/middleware/rejected.js';
import { registeredApiVersion } from '../../src/tracing/otel-api.js';
import { contextWithSpan, spanKeyUsable } from '../../src/tracing/span-context.js';
import { createTracing, LIGHT_TRACER, type WithLightTracer } from '../../src/tracing/provider.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { EXOTIC_CASES, KEY_CASES, STRING_CASES } from '../logging/adversarial.js';
import { testLogger, type TestLogger } from '../logging/fixtures.js';
import { startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../helpers/otlp-receiver.js';

const require = createRequire(import.meta.url);
const versionOf = (pkg: string): string =>
  (require(`${pkg}/package.json`) as { version: string }).version;

/** A guard as the public path sees it: the next major, never tested. */
const outOfRange = (spec: typeof PINO): Guard => decide(spec, '99.0.0');

describe('version guards', () => {
  it('take the fast path on the versions installed by the lockfile', () => {
    const guards = [
      pinoGuard(),
      sonicBoomGuard(),
      otelSdkGuard(),
      otelApiGuard(),
      expressGuard(),
      nodeGuard(),
    ];
    for (const guard of guards) {
      expect(guard, guard.name).toMatchObject({ fast: true, warning: undefined });
    }
    expect(fastifyGuard(Fastify().version).fast).toBe(true);
  });

  it('read the installed version from the package', () => {
    expect(pinoGuard().version).toBe(versionOf('pino'));
    expect(otelSdkGuard().version).toBe(versionOf('@opentelemetry/sdk-trace-base'));
    expect(expressGuard().version).toBe(versionOf('express'));
    expect(installedVersion('no-such-package-here', import.meta.url)).toBeUndefined();
  });

  it('accept only versions inside a tested range (prereleases never are)', () => {
    const ranges = [{ from: '10.4.0', below: '11.0.0' }];
    expect(inTestedRange('10.4.0', ranges)).toBe(true);
    expect(inTestedRange('10.99.3', ranges)).toBe(true);
    expect(inTestedRange('10.3.9', ranges)).toBe(false);
    expect(inTestedRange('11.0.0', ranges)).toBe(false);
    expect(inTestedRange('11.0.0-rc.1', ranges)).toBe(false);
    expect(inTestedRange('10.5.0-beta.0', ranges)).toBe(false);
    expect(inTestedRange('garbage', ranges)).toBe(false);
    expect(decide(EXPRESS, '4.22.3').fast).toBe(true);
    expect(decide(EXPRESS, '5.3.0').fast).toBe(true);
    expect(decide(EXPRESS, '4.17.1').fast).toBe(false);
  });

  it('say what is off, why and what to do, once', () => {
    const guard = decide(PINO, '11.0.0');
    expect(guard.fast).toBe(false);
    expect(guard.warning).toBe(
      "pino 11.0.0 is outside the versions stacklight's fast path is tested with (>=10.4.0 <11.0.0); stacklight's direct log line writer is off " +
        "and pino's own serializer and stream writes is used instead (same lines, more CPU per line). " +
        'Fix: update stacklight, or install a tested pino version.',
    );
    expect(decide(PINO, undefined).warning).toMatch(
      /^the installed pino version could not be read; /,
    );
    const warned: Array<[string, string]> = [];
    const warn = (key: string, message: string): void => void warned.push([key, message]);
    reportGuard(guard, warn);
    reportGuard(guard, warn);
    reportGuard(pinoGuard(), warn); // fast: nothing to say
    expect(warned).toEqual([['internals:pino', guard.warning]]);
  });
});

describe('pino: public path', () => {
  const noTs = (text: string): string => text.replace(/"ts":"[^"]*"/g, '"ts":"-"');
  const SPAN = trace.wrapSpanContext({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
  });
  const guards = (pino: Guard) => ({ pino, sonicBoom: sonicBoomGuard() });

  function run(guard: Guard): { text: string; handle: TestLogger } {
    const handle = testLogger({}, guards(guard));
    const { logger } = handle;
    logger.info({ status: 200, latency_ms: 12.5, route: '/orders/:id' }, 'request completed');
    logger.warn('plain "quoted" \\ message\n');
    logger.error({ err: new Error('boom'), unknown: { nested: [1, 'two'] } }, 'failed');
    logger.child({ userId: 'u-1', tenant: 'acme' }).info({ jobId: 'j1' }, 'child line');
    runWithContext({ requestId: 'r-1', route: '/users/:id', method: 'GET' }, () => {
      context.with(trace.setSpan(context.active(), SPAN), () => {
        logger.info({ status: 404, latency_ms: 3 }, 'in a request');
        const write = requestLineOf(logger);
        if (write === undefined || !write('info', 200, 1.25, 'request completed')) {
          logger.info({ status: 200, latency_ms: 1.25 }, 'request completed');
        }
      });
    });
    return { text: noTs(handle.capture.text()), handle };
  }

  it('writes the same lines with pino serializing and writing them itself', () => {
    const fast = run(pinoGuard());
    const slow = run(outOfRange(PINO));
    const own = (l: pino.Logger) => Object.prototype.hasOwnProperty.call(l, pino.symbols.asJsonSym);
    expect(own(fast.handle.logger)).toBe(true);
    expect(own(slow.handle.logger)).toBe(false);
    expect(requestLineOf(slow.handle.logger)).toBeUndefined();
    expect(slow.text.split('\n').filter(Boolean)).toHaveLength(6);
    expect(slow.text).toBe(fast.text);
    expect(slow.handle.guards.map((g) => g.name)).toEqual(['pino']);
  });

  it('writes the same lines for every adversarial record', () => {
    for (const c of [...KEY_CASES, ...STRING_CASES, ...EXOTIC_CASES]) {
      const [fast, slow] = [pinoGuard(), outOfRange(PINO)].map((g) => {
        const t = testLogger(c.setup, guards(g));
        if (c.context) runWithContext(c.context as TelemetryContext, () => c.log(t.logger));
        else c.log(t.logger);
        return noTs(t.capture.text());
      });
      expect(slow, c.name).toBe(fast);
    }
  });
});

describe('sonic-boom: public path', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stacklight-guard-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, guard] of [
    ['fast', sonicBoomGuard()],
    ['public', outOfRange(SONIC_BOOM)],
  ] as const) {
    it(`flush() writes out what a buffering pino.destination() holds (${name} path)`, async () => {
      const path = join(dir, `${name}.log`);
      const fd = openSync(path, 'w');
      const destination = pino.destination({ dest: fd, sync: false, minLength: 4096 });
      const { logger, flush, guards } = createLogger(
        { service: 'edge', env: 'test', level: 'info', stackTraces: false, destination },
        { pino: pinoGuard(), sonicBoom: guard },
      );
      expect(guards).toContain(guard);
      for (let i = 0; i < 5; i++) logger.info({ status: 200, latency_ms: i }, 'line');
      expect(readFileSync(path, 'utf8')).toBe(''); // all below minLength, held
      await flush();
      const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
      expect(lines.map((l) => (JSON.parse(l) as { latency_ms: number }).latency_ms)).toEqual([
        0, 1, 2, 3, 4,
      ]);
      closeSync(fd);
    });
  }
});

describe('express: public path', () => {
  const servers: Array<{ close(): unknown }> = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  async function templates(
    express: typeof express5,
    guard: Guard | undefined,
  ): Promise<Record<string, string | undefined>> {
    const app = express();
    const seen: Record<string, string | undefined> = {};
    const record = (req: Parameters<typeof expressRouteTemplate>[0] & { originalUrl?: string }) => {
      seen[req.originalUrl ?? ''] = expressRouteTemplate(req, guard);
    };
    app.get('/health/:probe', (req, res) => {
      record(req);
      res.end();
    });
    const orgs = express.Router({ mergeParams: true });
    orgs.get('/items/:id', (req, res) => {
      record(req);
      res.end();
    });
    app.use('/api/orgs/:orgId', orgs);
    const server = app.listen(0);
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const url of ['/health/live', '/api/orgs/42/items/7'])
      await (await fetch(base + url)).text();
    return seen;
  }

  for (const [major, express] of [
    ['Express 5', express5],
    ['Express 4', express4 as unknown as typeof express5],
  ] as const) {
    it(`gives the same templates from req.route, baseUrl and params (${major})`, async () => {
      const expected = {
        '/health/live': '/health/:probe',
        '/api/orgs/42/items/7': '/api/orgs/:orgId/items/:id',
      };
      expect(await templates(express, undefined)).toEqual(expected);
      expect(await templates(express, outOfRange(EXPRESS))).toEqual(expected);
    });
  }
});

describe('fastify: public path', () => {
  it('reads only the top-level option, and the plugin warns once', async () => {
    const guard = outOfRange(FASTIFY);
    expect(fastifyLogsRequests(Fastify({ logger: true }), guard)).toBe(true);
    expect(fastifyLogsRequests(Fastify({ logger: true }), fastifyGuard('5.12.8'))).toBe(true);
    expect(fastifyLogsRequests(Fastify(), guard)).toBe(false);

    const capture = createLogCapture();
    const telemetry = init({
      service: 'edge',
      env: 'test',
      logging: { destination: capture.stream },
      metrics: { defaultMetrics: false },
      tracing: { exporter: 'none' },
    });
    try {
      for (let i = 0; i < 2; i++) {
        const app = Fastify();
        // fastify-plugin itself refuses a Fastify other than 5.x: a prerelease is what passes it untested.
        Object.defineProperty(app, 'version', { value: '5.0.0-rc.1' });
        await app.register(stacklightPlugin, { telemetry });
        app.get('/x', async () => 'ok');
        expect((await app.inject('/x')).statusCode).toBe(200);
        await app.close();
      }
      const warnings = capture
        .lines()
        .filter((l) => String(l['msg']).includes('fastify 5.0.0-rc.1'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!['msg']).toBe(`stacklight/fastify: ${fastifyGuard('5.0.0-rc.1').warning}`);
    } finally {
      await telemetry.shutdown();
    }
  });
});

describe('OpenTelemetry SDK: public path', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it("makes SDK spans, exported as the light span's would be", async () => {
    const exported: OtlpSpan[] = [];
    for (const guard of [otelSdkGuard(), outOfRange(OTEL_SDK)]) {
      const config = resolveConfig(
        {
          service: 'edge',
          env: 'test',
          tracing: { exporter: 'otlp', endpoint: receiver.url, scheduledDelayMs: 10 },
        },
        {},
      );
      const room = createTracing(
        { ...config.tracing, resource: config.resource, redactor: createRedactor() },
        () => undefined,
        () => undefined,
        guard,
      );
      try {
        expect(room.guards).toEqual([guard]);
        const light = (room.tracer as WithLightTracer)[LIGHT_TRACER];
        expect(light !== undefined).toBe(guard.fast);
        const tracer = light ?? room.tracer;
        const name = `GET /orders/:id ${guard.fast}`;
        const span = tracer.startSpan(name, {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': 'GET' },
        });
        span.setAttribute('http.response.status_code', 200);
        span.end();
        await room.forceFlush();
        await receiver.waitForSpans((s) => s.some((x) => x.name === name));
        exported.push(receiver.spans.find((x) => x.name === name)!);
      } finally {
        await room.shutdown();
      }
    }
    const shape = (s: OtlpSpan) => ({
      kind: s.kind,
      attributes: s.attributes,
      status: s.status,
    });
    expect(shape(exported[1]!)).toEqual(shape(exported[0]!));
  });
});

describe('OpenTelemetry API: public path', () => {
  it('builds the same span context with trace.setSpan', () => {
    expect(spanKeyUsable()).toBe(true);
    expect(spanKeyUsable(outOfRange(OTEL_API).fast)).toBe(false);
    const span = trace.wrapSpanContext({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
    });
    const key = createContextKey('guard test');
    const parent = ROOT_CONTEXT.setValue(key, 'kept');
    for (const fast of [true, false]) {
      const ctx = contextWithSpan(parent, span, fast);
      expect(trace.getSpan(ctx)).toBe(span);
      expect(ctx.getValue(key)).toBe('kept');
      expect(trace.getSpan(ctx.deleteValue(key))).toBe(span);
      expect(trace.getSpan(trace.deleteSpan(ctx))).toBeUndefined();
    }
  });

  it("does not read the API's global registry", () => {
    expect(registeredApiVersion(false)).toBeUndefined();
  });
});

describe('Node.js: public path', () => {
  async function overlongHeaders(
    node: Guard,
  ): Promise<{ answer: string; rejected: number[]; warned: string[] }> {
    const server = createServer((_req, res) => res.end());
    const rejected: number[] = [];
    const warned: string[] = [];
    const lifecycle = {
      recordRejected: (_method: unknown, status: number) => void rejected.push(status),
      errors: { warn: (key: string) => void warned.push(key) },
    } as unknown as HttpLifecycle;
    watchClientErrors(server, lifecycle, node);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
      socket.on('error', () => undefined);
      socket.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      await new Promise((r) => socket.on('close', r));
      return { answer, rejected, warned };
    } finally {
      server.close();
    }
  }

  it('counts a request Node cannot parse on both paths; only a tested Node answers it', async () => {
    const fast = await overlongHeaders(nodeGuard());
    expect(fast.answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(fast.rejected).toEqual([431]);
    expect(fast.warned).toEqual([]);
    const slow = await overlongHeaders(outOfRange(NODE));
    expect(slow.answer).toBe('');
    expect(slow.rejected).toEqual([431]);
    expect(slow.warned).toEqual(['internals:node']);
  });
});
