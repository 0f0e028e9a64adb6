/**
 * The servers of the HTTP overhead benchmark, one configuration per run:
 *
 *   node --import tsx bench/http/servers.ts <fastify|express> <bare|als|peer|stacklight|stacklight-unsampled> <port> [otlpUrl]
 *
 * Every configuration serves the same route, `GET /users/:id` → `{"id": …}`.
 * Logs go to /dev/null, each stack through its own default kind of
 * destination: pino's default (an asynchronous sonic-boom, one write per
 * line) for the peer stack, stacklight's default (asynchronous, batched:
 * 64 KiB or 100 ms) for stacklight; both pay for serialization and the
 * write calls. The peer stack's spans go to a batch processor with an
 * exporter that discards them; stacklight's go over OTLP/HTTP to a local
 * receiver that accepts and discards (a stricter setting for stacklight).
 */
import { openSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { HttpInstrumentation as HttpInstrumentationT } from '@opentelemetry/instrumentation-http';
import type { ExpressInstrumentation as ExpressInstrumentationT } from '@opentelemetry/instrumentation-express';
import type { RequestHandler } from 'express';
import type expressT from 'express';
import pino from 'pino';

const [framework = 'fastify', config = 'bare', portArg, otlpUrl] = process.argv.slice(2);
const port = Number(portArg);
const require = createRequire(import.meta.url);
const devnull = () => pino.destination({ dest: '/dev/null', sync: false });

async function discardingOtel() {
  const { NodeTracerProvider } = await import('@opentelemetry/sdk-trace-node');
  const { BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { ExportResultCode } = await import('@opentelemetry/core');
  const exporter = {
    export: (_s: unknown, cb: (r: { code: number }) => void) =>
      cb({ code: ExportResultCode.SUCCESS }),
    shutdown: async () => undefined,
  };
  const provider = new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter as never)],
  });
  provider.register();
  return provider;
}

/**
 * The `als` configuration: the bare server plus one AsyncLocalStorage run
 * around each request, and nothing else — what any SDK that keeps a request
 * context pays on this Node version, as a baseline for stacklight's own cost.
 */
async function contextOnly() {
  const { AsyncLocalStorage } = await import('node:async_hooks');
  return new AsyncLocalStorage<object>();
}

/**
 * stacklight as a service would run it. Variants used when profiling, to
 * attribute cost: `-unsampled` (ratio 0), `-nolog` (level silent),
 * `-notrace` (tracing off), `-metrics` (neither logs nor traces), and for
 * the log destination `-perline` (one write per line, pino's default),
 * `-sonic` (sonic-boom batching, the previous default),
 * `-syncdest`, `-nulldest` (no write at all); `-noexport` (spans made, not
 * exported); `-sdkspan` (the SDK's server span instead of the light one).
 */
async function stacklight(variant: string) {
  const { init } = await import('../../src/index.js');
  const { batchedDestination } = await import('../../src/logging/logger.js');
  const noLog = variant.includes('-nolog') || variant.includes('-metrics');
  const noTrace = variant.includes('-notrace') || variant.includes('-metrics');
  return init({
    service: 'bench',
    env: 'production',
    logging: {
      destination: variant.includes('-perline')
        ? devnull()
        : variant.includes('-nulldest')
          ? { write: () => true }
          : variant.includes('-syncdest')
            ? pino.destination({ dest: '/dev/null', sync: true })
            : variant.includes('-sonic')
              ? // the previous default: sonic-boom with minLength
                pino.destination({
                  dest: '/dev/null',
                  sync: false,
                  minLength: 4096,
                  periodicFlush: 100,
                })
              : // stacklight's default destination, on /dev/null instead of stdout
                batchedDestination(openSync('/dev/null', 'w')),
      level: noLog ? 'silent' : 'info',
    },
    metrics: { defaultMetrics: false },
    tracing: {
      enabled: !noTrace,
      exporter: variant.includes('-noexport') ? 'none' : 'otlp',
      endpoint: otlpUrl ?? 'http://127.0.0.1:4318/v1/traces',
      sampleRatio: variant.includes('-unsampled') ? 0 : 1,
      scheduledDelayMs: 1000,
      // A span processor of the user's keeps the SDK's span (no light span).
      spanProcessors: variant.includes('-sdkspan')
        ? [
            {
              onStart: () => undefined,
              onEnd: () => undefined,
              forceFlush: () => Promise.resolve(),
              shutdown: () => Promise.resolve(),
            },
          ]
        : [],
    },
  });
}

async function fastifyServer(): Promise<void> {
  const { default: Fastify } = await import('fastify');
  let app;
  if (config === 'bare') {
    app = Fastify({ logger: false });
  } else if (config === 'peer') {
    // The peer stack: Fastify's pino request logging + fastify-metrics + @fastify/otel.
    await discardingOtel();
    const { FastifyOtelInstrumentation } = await import('@fastify/otel');
    // Registers itself on every Fastify instance created after this line.
    new FastifyOtelInstrumentation({ registerOnInitialization: true });
    app = Fastify({ logger: { level: 'info', stream: devnull() } });
    const { default: metrics } = await import('fastify-metrics');
    await app.register(metrics as never, { endpoint: '/metrics' });
  } else if (config === 'als') {
    app = Fastify({ logger: false });
    const als = await contextOnly();
    app.addHook('onRequest', (_req, _reply, next) => als.run({}, next));
  } else {
    const telemetry = await stacklight(config);
    if (config.includes('-barepino')) {
      // Profiling aid: the same lifecycle with a bare pino logger.
      (telemetry as { logger: unknown }).logger = pino({ base: { service: 'bench' } }, devnull());
    }
    const { stacklightPlugin } = await import('../../src/fastify.js');
    app = Fastify({ logger: false });
    await app.register(stacklightPlugin, { telemetry });
  }
  app.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }));
  await app.listen({ port, host: '127.0.0.1' });
}

async function expressServer(): Promise<void> {
  if (config === 'peer') {
    // OpenTelemetry's http + express instrumentations patch through require hooks,
    // so they must be registered before express and http are required.
    const provider = await discardingOtel();
    const { registerInstrumentations } = await import('@opentelemetry/instrumentation');
    const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as {
      HttpInstrumentation: typeof HttpInstrumentationT;
    };
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as {
      ExpressInstrumentation: typeof ExpressInstrumentationT;
    };
    registerInstrumentations({
      tracerProvider: provider,
      instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
    });
  }
  const express = require('express') as typeof expressT;
  const app = express();
  if (config === 'peer') {
    const pinoHttp = require('pino-http') as (o: object) => RequestHandler;
    const promBundle = require('express-prom-bundle') as (o: object) => RequestHandler;
    app.use(pinoHttp({ logger: pino(devnull()) }));
    app.use(promBundle({ includeMethod: true, includePath: true, includeStatusCode: true }));
  } else if (config === 'als') {
    const als = await contextOnly();
    app.use((_req, _res, next) => als.run({}, next));
  } else if (config.startsWith('stacklight')) {
    const telemetry = await stacklight(config);
    const { stacklightMiddleware } = await import('../../src/express.js');
    app.use(stacklightMiddleware(telemetry));
  }
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  await new Promise<void>((resolve) => app.listen(port, '127.0.0.1', () => resolve()));
}

await (framework === 'express' ? expressServer() : fastifyServer());
process.stdout.write('ready\n');
// Exit cleanly on SIGINT so that `node --cpu-prof` writes its profile.
process.on('SIGINT', () => process.exit(0));
// The soak benchmark asks for the heap after a full GC (run with --expose-gc).
process.on('message', (m) => {
  if (m !== 'heap') return;
  (globalThis as { gc?: () => void }).gc?.();
  process.send?.({ heapUsed: process.memoryUsage().heapUsed });
});
