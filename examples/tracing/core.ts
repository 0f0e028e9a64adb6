/**
 * Core (S3) on Express: the middle of the journey, twice.
 *
 * - `POST /internal/imports` continues Edge's trace (the middleware reads
 *   `traceparent`) and enqueues the import; the job data carries the trace
 *   on to the worker (`instrumentQueue`, span `enqueue q_import`);
 * - `GET /internal/events/subscribe` streams the outbox to Edge over SSE:
 *   each row is written through the delivery helper, an `SSE send` span
 *   linked to the `outbox.append` that wrote it, and one
 *   `event_delivery_lag_ms{channel="sse"}` sample.
 *
 * The code samples of docs/tracing.md are the `#region`s of this file (a
 * region may come in parts, such as its imports; the docs join them).
 *
 * Run (Redis on 127.0.0.1:6379, or REDIS_HOST / REDIS_PORT):
 *   node --import tsx examples/tracing/core.ts
 */
import { init } from 'stacklight';
import { eventOutbox, type OutboxRow } from './db.js';
import type { ImportJob } from './types.js';
// #region http-in-express
import express from 'express';
import { stacklightErrorHandler, stacklightMiddleware } from 'stacklight/express';
// #endregion
// #region job-producer
import { Queue } from 'bullmq';
import { instrumentQueue } from 'stacklight/bullmq';
// #endregion
// #region sse-send
import { createEventDelivery } from 'stacklight';
// #endregion

const telemetry = init({ service: 'core', shutdown: { handleSignals: true } });
const connection = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};

// #region http-in-express
const app = express();
app.use(stacklightMiddleware(telemetry, { excludeFromTraces: ['/internal/events/subscribe'] }));
// #endregion
app.use(express.json());

// #region job-producer
const imports = instrumentQueue(telemetry, new Queue<ImportJob>('q_import', { connection }));

app.post('/internal/imports', async (req, res) => {
  const { userId, broker, symbol } = req.body as ImportJob;
  const job = await imports.add('import.trades', { userId, broker, symbol }); // span "enqueue q_import", data._trace set
  res.status(202).json({ jobId: job.id });
});
// #endregion

// #region sse-send
const sse = createEventDelivery(telemetry, { channel: 'sse' });

app.get('/internal/events/subscribe', (req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (row: OutboxRow) =>
    sse.deliver(
      { ...row.body, id: String(row.id) },
      () => res.write(`id: ${row.id}\ndata: ${JSON.stringify(row.body)}\n\n`),
      { outboxTs: row.createdAt }, // optional: the row's own timestamp column wins over envelope.outboxTs
    );
  // The backlog after Last-Event-ID (a reconnect: Edge's events.replay), then new rows.
  for (const row of eventOutbox.after(Number(req.get('last-event-id') ?? 0))) send(row);
  const unsubscribe = eventOutbox.onInsert(send);
  const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), 15_000);
  req.on('close', () => {
    unsubscribe();
    clearInterval(heartbeat);
  });
});
// #endregion

// #region http-in-express
app.use(stacklightErrorHandler()); // after the routes
// #endregion

const server = app.listen(Number(process.env.PORT ?? 3002));
telemetry.onShutdown('close', 'http-server', () => {
  server.closeAllConnections(); // the SSE streams never end on their own
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
telemetry.onShutdown('close', 'q_import', () => imports.close());
