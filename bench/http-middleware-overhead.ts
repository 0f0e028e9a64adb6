/**
 * Quick in-process measurement of the HTTP middleware's cost per request.
 *
 * One process, one `init()`, a bare app and the same app with stacklight,
 * driven in interleaved rounds (so that drift in machine load hits every
 * configuration alike); the median CPU time per request of each is reported
 * with its difference to bare. Three kinds of instrumented requests, told
 * apart by the incoming `traceparent` (the sampler is parent-based, always
 * on): sampled root span, unsampled (`-00` parent), sampled with a parent.
 * Each instrumented request records both metrics and writes one log line
 * (to a stream that discards it, after pino serialized it).
 *
 * Rows:
 * - `inject`: `fastify.inject`, no sockets (least noise);
 * - `socket`: keep-alive node:http client over loopback, one request in
 *   flight; Fastify and Express 5.
 *
 * First, the bare app runs alone before any AsyncLocalStorage is active;
 * once stacklight ran a request, Node's promise hooks for AsyncLocalStorage
 * stay on for the whole process, so the interleaved bare rows include that
 * tax too and "ALS tax" reports it separately.
 *
 * Run: node --import tsx bench/http-middleware-overhead.ts [rounds=20] [perRound=1000]
 * The load-generator benchmark against a separate server process is bench/http/ (issue 7).
 */
import { Agent, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { ExportResult } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { init } from '../src/index.js';
import { stacklightErrorHandler, stacklightMiddleware } from '../src/express.js';
import { stacklightPlugin } from '../src/fastify.js';

const ROUNDS = Number(process.argv[2] ?? 20);
const PER_ROUND = Number(process.argv[3] ?? 1000);
const UNSAMPLED = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
const SAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Accepts spans and drops them (the batch pipeline still runs). */
class DiscardExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const telemetry = init({
  service: 'bench',
  env: 'production',
  logging: { destination: new Writable({ write: (_c, _e, cb) => cb() }) },
  metrics: { defaultMetrics: false },
  tracing: {
    exporter: 'none',
    sampler: 'parentbased_always_on',
    spanProcessors: [new BatchSpanProcessor(new DiscardExporter())],
  },
});

type Send = (path: string, headers: Record<string, string>) => Promise<void>;

interface Case {
  name: string;
  send: Send;
  headers: Record<string, string>;
  samples: number[];
}

async function fastifyApp(instrumented: boolean): Promise<FastifyInstance> {
  const app = Fastify();
  if (instrumented) await app.register(stacklightPlugin, { telemetry });
  app.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  return app;
}

function expressApp(instrumented: boolean): express.Express {
  const app = express();
  if (instrumented) app.use(stacklightMiddleware(telemetry));
  app.get('/users/:id', (req, res) => void res.json({ id: req.params['id'] }));
  if (instrumented) app.use(stacklightErrorHandler());
  return app;
}

function socketSender(server: Server): Send {
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return (path, headers) =>
    new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
}

async function listen(server: Server): Promise<Server> {
  if (!server.listening) await new Promise((r) => server.once('listening', r));
  return server;
}

/** CPU µs per request for one batch. */
async function batch(c: Case, n: number): Promise<number> {
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await c.send(`/users/${i & 1023}`, c.headers);
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / n;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function group(title: string, cases: Case[]): Promise<void> {
  for (const c of cases) await batch(c, PER_ROUND); // warm-up
  for (let r = 0; r < ROUNDS; r++) for (const c of cases) c.samples.push(await batch(c, PER_ROUND));
  const bare = median(cases[0]!.samples);
  console.log(`\n${title}`);
  console.log('| requests                          | CPU µs/req (median) | Δ vs bare |');
  console.log('|-----------------------------------|--------------------:|----------:|');
  for (const c of cases) {
    const m = median(c.samples);
    const d = c === cases[0] ? '' : `${m - bare >= 0 ? '+' : ''}${(m - bare).toFixed(1)}`;
    console.log(`| ${c.name.padEnd(33)} | ${m.toFixed(1).padStart(19)} | ${d.padStart(9)} |`);
  }
}

async function main(): Promise<void> {
  console.log(
    `node ${process.version}, ${ROUNDS} rounds x ${PER_ROUND} requests per configuration`,
  );
  const bareF = await fastifyApp(false);
  const instF = await fastifyApp(true);
  await Promise.all([bareF.ready(), instF.ready()]);
  const inject =
    (app: FastifyInstance): Send =>
    async (url, headers) =>
      void (await app.inject({ url, headers }));

  // Bare alone, before AsyncLocalStorage is active anywhere in the process.
  const pristine: Case = {
    name: 'bare, no ALS active yet',
    send: inject(bareF),
    headers: {},
    samples: [],
  };
  for (let i = 0; i < 5; i++) await batch(pristine, PER_ROUND); // warm-up (JIT)
  for (let r = 0; r < Math.max(3, ROUNDS / 4); r++)
    pristine.samples.push(await batch(pristine, PER_ROUND));

  const cases = (send: (instrumented: boolean) => Send): Case[] => [
    { name: 'bare', send: send(false), headers: {}, samples: [] },
    { name: 'stacklight, sampled root span', send: send(true), headers: {}, samples: [] },
    {
      name: 'stacklight, sampled, with parent',
      send: send(true),
      headers: { traceparent: SAMPLED_PARENT },
      samples: [],
    },
    {
      name: 'stacklight, unsampled',
      send: send(true),
      headers: { traceparent: UNSAMPLED },
      samples: [],
    },
  ];
  const injectCases = cases((i) => inject(i ? instF : bareF));
  await group('Fastify 5, inject', injectCases);
  const tax = median(injectCases[0]!.samples) - median(pristine.samples);
  console.log(
    `ALS tax (bare with vs without AsyncLocalStorage active): ${tax >= 0 ? '+' : ''}${tax.toFixed(1)} µs/req`,
  );

  await Promise.all([
    bareF.listen({ port: 0, host: '127.0.0.1' }),
    instF.listen({ port: 0, host: '127.0.0.1' }),
  ]);
  await group(
    'Fastify 5, socket',
    cases((i) => socketSender((i ? instF : bareF).server)),
  );
  const bareE = await listen(expressApp(false).listen(0, '127.0.0.1'));
  const instE = await listen(expressApp(true).listen(0, '127.0.0.1'));
  await group(
    'Express 5, socket',
    cases((i) => socketSender(i ? instE : bareE)),
  );

  for (const s of [bareE, instE, bareF.server, instF.server]) s.closeAllConnections();
  await Promise.all([
    bareF.close(),
    instF.close(),
    new Promise((r) => bareE.close(r)),
    new Promise((r) => instE.close(r)),
  ]);
  await telemetry.shutdown();
}

await main();
