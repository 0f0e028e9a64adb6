/**
 * Logger overhead against bare pino, same fields, same (no-op) destination.
 *
 *   node --import tsx bench/logging.bench.ts          # all cases, one process each
 *   node --import tsx bench/logging.bench.ts '<case>' # one case
 *
 * A no-op destination isolates the CPU cost of building the line, which is
 * what stacklight adds; a real fd only adds the same write cost to both.
 * Bare pino is configured to write the same line shape (ISO `ts`, level as a
 * word, the same `base`), and for the secret-laden line a path-based
 * `redact` covering the same secrets.
 */
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { runWithContext } from '../src/context.js';
import { createLogger } from '../src/logging/index.js';

const sink = { write: (_s: string): boolean => true };
const base = { service: 'edge', env: 'production', region: 'eu-west-1' };

let lastMs = -1;
let lastTs = '';
/** The same per-millisecond cached ISO timestamp stacklight uses, so the comparison is like for like. */
function cachedIsoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTs = `,"ts":"${new Date(now).toISOString()}"`;
  }
  return lastTs;
}

function barePino(redactPaths?: string[], destination: pino.DestinationStream = sink): pino.Logger {
  return pino(
    {
      base,
      timestamp: cachedIsoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(redactPaths ? { redact: { paths: redactPaths, censor: '[REDACTED]' } } : {}),
    },
    destination,
  );
}

const stacklight = createLogger({
  ...base,
  level: 'info',
  stackTraces: false,
  destination: sink,
}).logger;

// Distinct request and user ids per line, as in production (a constant id
// would flatter any per-string memo).
const ids = Array.from({ length: 4096 }, (_, i) =>
  `${crypto.randomUUID()}`.replace(/^.{4}/, String(i).padStart(4, '0')),
);
const users = Array.from({ length: 4096 }, (_, i) => `u_${100000 + i * 7}`);
const typicalLines = ids.map((requestId, i) => ({
  requestId,
  route: '/users/:id',
  method: 'GET',
  status: 200,
  latency_ms: 12.5,
  userId: users[i] as string,
}));
const typical = typicalLines[0] as (typeof typicalLines)[number];
let k = 0;
const nextTypical = () => typicalLines[(k = (k + 1) & 4095)] as typeof typical;
const secretLines = typicalLines.map((line) => ({
  requestId: line.requestId,
  route: line.route,
  method: line.method,
  status: line.status,
  latency_ms: line.latency_ms,
  userId: line.userId,
  headers: {
    authorization: 'Bearer abcdefghijklmnop123456',
    cookie: 'sid=s3cr3t; theme=dark',
    'user-agent': 'curl/8.5',
  },
  user: { password: 'hunter2', apiKeyEnc: 'gcm:abcdef', name: 'n' },
}));
const nextSecret = () => secretLines[(k = (k + 1) & 4095)] as (typeof secretLines)[number];
const secretPaths = ['headers.authorization', 'headers.cookie', 'user.password', 'user.apiKeyEnc'];

function measure(name: string, fn: () => void, n = 200_000): number {
  for (let i = 0; i < 20_000; i++) fn();
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    runs.push(Number(process.hrtime.bigint() - t0) / n);
  }
  runs.sort((a, b) => a - b);
  const median = runs[3] as number;
  return median;
}

const bare = barePino();
const bareRedact = barePino(secretPaths);

/** Each case runs in its own process so that one case's JIT feedback does not slow another. */
const CASES: Record<string, () => number> = {
  'pino defaults (epoch ms, numeric level)': () => {
    const defaults = pino({ base }, sink);
    return measure('pino defaults', () => defaults.info(nextTypical(), 'request completed'));
  },
  'typical: bare pino': () =>
    measure('typical: bare pino', () => bare.info(nextTypical(), 'request completed')),
  'typical: stacklight': () =>
    measure('typical: stacklight', () => stacklight.info(nextTypical(), 'request completed')),
  // The same with a real synchronous write (sonic-boom to /dev/null), which
  // both pay: the ratio a service sees.
  'typical, /dev/null: bare pino': () => {
    const logger = barePino(undefined, pino.destination({ dest: '/dev/null', sync: true }));
    return measure('', () => logger.info(nextTypical(), 'request completed'), 100_000);
  },
  'typical, /dev/null: stacklight': () => {
    const { logger } = createLogger({
      ...base,
      level: 'info',
      stackTraces: false,
      destination: pino.destination({ dest: '/dev/null', sync: true }),
    });
    return measure('', () => logger.info(nextTypical(), 'request completed'), 100_000);
  },
  'secrets: bare pino + redact paths': () =>
    measure('secrets: bare pino + redact paths', () =>
      bareRedact.info(nextSecret(), 'request completed'),
    ),
  'secrets: stacklight': () =>
    measure('secrets: stacklight', () => stacklight.info(nextSecret(), 'request completed')),
  'in request: bare pino, ids passed': () =>
    inRequest((traceId, spanId) => {
      // Object literals, not spreads: pino serializes spread-built objects
      // ~1.6× slower (measured), which would flatter stacklight.
      const withIds = typicalLines.map((l) => ({
        requestId: l.requestId,
        route: l.route,
        method: l.method,
        status: l.status,
        latency_ms: l.latency_ms,
        userId: l.userId,
        traceId,
        spanId,
      }));
      return measure('in request: bare pino, ids passed', () =>
        bare.info(withIds[(k = (k + 1) & 4095)], 'request completed'),
      );
    }),
  'in request: stacklight, context + span': () =>
    inRequest(() =>
      measure('in request: stacklight, context + span', () =>
        stacklight.info({ status: 200, latency_ms: 12.5 }, 'request completed'),
      ),
    ),
};

/** Runs `fn` inside a request context and an active span, like a handler. */
function inRequest(fn: (traceId: string, spanId: string) => number): number {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider());
  const ctx = {
    requestId: typical.requestId,
    route: typical.route,
    method: typical.method,
    userId: typical.userId,
  };
  return trace.getTracer('bench').startActiveSpan('HTTP GET /users/:id', (span) => {
    const { traceId, spanId } = span.spanContext();
    const result = runWithContext(ctx, () => fn(traceId, spanId));
    span.end();
    return result;
  });
}

const only = process.argv[2];
if (only !== undefined) {
  const run = CASES[only];
  if (run === undefined) throw new Error(`unknown case ${only}`);
  process.stdout.write(`${run()}\n`);
} else {
  // Cases interleaved over several rounds. Times: the best round (on a
  // shared machine the minimum is the least disturbed measurement). Ratios:
  // stacklight against its baseline of the same round (run right before or
  // after it), median of rounds, so that the machine's drift between rounds
  // cancels out.
  const rounds = Number(process.env['ROUNDS'] ?? 3);
  const results: Record<string, number> = {};
  const perRound: Record<string, number>[] = [];
  for (let round = 0; round < rounds; round++) {
    const these: Record<string, number> = {};
    for (const name of Object.keys(CASES)) {
      const out = execFileSync(process.execPath, [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        name,
      ]);
      const ns = Number(out.toString().trim().split('\n').at(-1));
      these[name] = ns;
      results[name] = Math.min(results[name] ?? Infinity, ns);
    }
    perRound.push(these);
  }
  for (const [name, ns] of Object.entries(results)) {
    console.log(`${name.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/line`);
  }
  const r = (a: string, b: string): string => {
    const ratios = perRound.map((x) => (x[a] as number) / (x[b] as number)).sort((p, q) => p - q);
    return (ratios[Math.floor(ratios.length / 2)] as number).toFixed(2);
  };
  console.log(`typical line: ${r('typical: stacklight', 'typical: bare pino')}× bare pino`);
  console.log(
    `typical line to /dev/null: ${r('typical, /dev/null: stacklight', 'typical, /dev/null: bare pino')}× bare pino`,
  );
  console.log(
    `secret-laden line: ${r('secrets: stacklight', 'secrets: bare pino + redact paths')}× bare pino + redact`,
  );
  console.log(
    `in a request: ${r('in request: stacklight, context + span', 'in request: bare pino, ids passed')}× bare pino`,
  );
}
