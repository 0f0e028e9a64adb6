/**
 * Core (S3) on Express: internal REST behind Edge, the job producer, the
 * event outbox and the SSE stream Edge subscribes to.
 *
 * - each route continues Edge's trace (the middleware reads `traceparent`);
 * - `queue.add` on an instrumented queue is an `enqueue <queue>` span and
 *   carries the trace in the job data, on to the worker;
 * - `POST /internal/events` (called by the workers) appends to the outbox
 *   inside an `outbox.append` span; the envelope keeps that span's context;
 * - `GET /internal/events/subscribe` streams the outbox over SSE: one
 *   `SSE send` span per event, linked to its `outbox.append`, and one
 *   `event_delivery_lag_ms{channel="sse"}` sample;
 * - `queue_depth{queue,state}` is read from Redis when /metrics is scraped.
 *
 * Without REDIS_URL there are no queues: reflections are scored inline.
 * Environment: PORT, REDIS_URL, BULLMQ_PREFIX, DATABASE_URL, AI_COACH_URL.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Queue } from 'bullmq';
import { createEventDelivery, createOutbox, init, withSpan, type EventEnvelope } from 'stacklight';
import { stacklightErrorHandler, stacklightMiddleware } from 'stacklight/express';
import { instrumentQueue, monitorQueueDepth } from 'stacklight/bullmq';
import { openOutboxStore, type OutboxRow } from './outbox-store.js';
import { announcePort, createCoach, queueSettings, QUEUES, type Trade } from './shared.js';

const telemetry = init({ service: 'core', shutdown: { handleSignals: true } });
const { logger } = telemetry;

const schema = `stacklight_demo_${process.env.DEMO_RUN ?? process.pid}`;
const store = await openOutboxStore(process.env.DATABASE_URL, schema);
logger.info(`outbox in ${store.kind}`);
telemetry.onShutdown('close', 'outbox', () => store.close());

// Producers: one instrumented queue per job kind.
const settings = queueSettings();
// A producer fails fast when Redis is down (a 5xx now, not a request hanging until its caller gives up).
const producer = settings && {
  ...settings,
  connection: { ...settings.connection, enableOfflineQueue: false },
};
const queue = (name: string) => instrumentQueue(telemetry, new Queue(name, producer));
const queues = settings && {
  import: queue(QUEUES.import),
  score: queue(QUEUES.score),
  sim: queue(QUEUES.sim),
  digest: queue(QUEUES.digest),
};
if (queues) {
  monitorQueueDepth(telemetry, Object.values(queues));
  for (const q of Object.values(queues)) telemetry.onShutdown('close', q.name, () => q.close());
  // Stands in for the Monday-morning scheduler: a digest run now and then.
  const week = () => new Date().toISOString().slice(0, 10);
  const digest = setInterval(
    () => void queues.digest.add('digest.weekly', { week: week() }).catch(() => undefined),
    10_000,
  );
  telemetry.onShutdown('drain', 'digest-timer', () => clearInterval(digest));
}
const retries = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 200 },
  removeOnComplete: 500,
};

const app = express();
app.use(
  stacklightMiddleware(telemetry, {
    metricsEndpoint: true,
    healthEndpoint: true,
    excludeFromTraces: ['/internal/events/subscribe'],
  }),
);
app.use(express.json());

app.post('/internal/sessions', async (req, res) => {
  const { userId, password } = req.body as { userId: string; password: string };
  // The credential check: a lookup and a hash comparison, a few ms.
  await new Promise((resolve) => setTimeout(resolve, 3 + Math.random() * 12));
  if (password !== 'correct horse')
    return void res.status(401).json({ error: 'invalid credentials' });
  res.json({ userId, session: randomUUID() }); // the session never reaches a log line
});

app.post('/internal/imports', async (req, res) => {
  if (!queues) return void res.status(503).json({ error: 'imports need the worker stack' });
  const job = await queues.import.add('import.trades', req.body, retries); // span "enqueue q_import"
  res.status(202).json({ jobId: job.id });
});

app.get('/internal/imports/:id', async (req, res) => {
  if (!queues) return void res.status(503).json({ error: 'imports need the worker stack' });
  const job = await queues.import.getJob(req.params.id);
  if (job === undefined) return void res.status(404).json({ error: 'no such import' });
  res.json({ progress: typeof job.progress === 'number' ? job.progress : 0 });
});

app.post('/internal/simulations', async (req, res) => {
  if (!queues) return void res.status(503).json({ error: 'simulations need the worker stack' });
  const job = await queues.sim.add('simulate.simple', req.body, retries);
  res.status(202).json({ jobId: job.id });
});

const coach = createCoach(telemetry);
app.post('/internal/reflections', async (req, res) => {
  const { userId, trade } = req.body as { userId: string; trade: Trade };
  if (queues) {
    const job = await queues.score.add('score.bias', { userId, trade }, retries);
    return void res.status(202).json({ jobId: job.id });
  }
  // No worker stack: score inline, as the worker would.
  const { text } = await withSpan('score.trade', { 'trade.id': trade.id }, () => coach(trade));
  if (text !== undefined)
    await append({ type: 'coach.reflection', payload: { userId, tradeId: trade.id, text } });
  res.status(text === undefined ? 502 : 202).json({ inline: true });
});

// The outbox: the row and its envelope in one write, inside "outbox.append".
const outbox = createOutbox(telemetry, {
  types: ['coach.reflection', 'import.progress', 'digest.ready'],
});
const append = (event: { type: string; payload: unknown }) =>
  outbox.append(event, (envelope) => store.insert(envelope as EventEnvelope));

app.post('/internal/events', async (req, res) => {
  const row = await append(req.body as { type: string; payload: unknown });
  res.status(201).json({ id: row.id });
});

const sse = createEventDelivery(telemetry, { channel: 'sse' });
app.get('/internal/events/subscribe', async (req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders(); // the subscriber is connected now, not at the first event or heartbeat
  let last = Number(req.get('last-event-id') ?? 0);
  const send = (row: OutboxRow) => {
    if (row.id <= last) return; // already on this stream
    last = row.id;
    sse.deliver({ ...row.body, id: String(row.id) }, () =>
      res.write(`id: ${row.id}\ndata: ${JSON.stringify(row.body)}\n\n`),
    );
  };
  // The backlog after Last-Event-ID (a reconnect), then new rows, then what
  // was written while the backlog was read.
  for (const row of await store.after(last)) send(row);
  const unsubscribe = store.onInsert(send);
  for (const row of await store.after(last)) send(row);
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), 15_000);
  req.on('close', () => {
    unsubscribe();
    clearInterval(heartbeat);
  });
});

app.use(stacklightErrorHandler()); // after the routes

const server = app.listen(Number(process.env.PORT ?? 3002), '127.0.0.1', () =>
  announcePort((server.address() as AddressInfo).port),
);
telemetry.onShutdown('close', 'http-server', () => {
  server.closeAllConnections(); // the SSE streams never end on their own
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
