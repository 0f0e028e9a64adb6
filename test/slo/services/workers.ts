/**
 * Workers (S4) and Core's job side under traffic, for the Prometheus
 * end-to-end test: BullMQ on the shared Redis under the prefix in
 * $BULL_PREFIX, jobs import.trades, simulate.simple (warm and cold),
 * score.bias (calling the AI Coach endpoints on Edge), digest.weekly
 * (recorded against its deadline), an outbox, vendor calls (s3, binance).
 * Metrics on their own port. Prints `READY <port>`.
 * Run: EDGE_URL=… BULL_PREFIX=… node --import tsx workers.ts
 */
import { createServer } from 'node:http';
import { Queue, Worker } from 'bullmq';
import {
  instrumentProcessor,
  instrumentQueue,
  instrumentWorker,
  markJobCache,
  monitorQueueDepth,
  SPEC_JOB_LABELS,
} from '../../../src/bullmq.js';
import {
  createAiCoachClient,
  createDigestRecorder,
  createOutbox,
  createVendorClient,
  init,
} from '../../../src/index.js';

const edge = process.env['EDGE_URL']!;
const prefix = process.env['BULL_PREFIX']!;
const telemetry = init({
  service: 'workers',
  env: 'e2e',
  logging: { level: 'warn' },
  metrics: { defaultMetrics: false },
  tracing: { enabled: false },
});
const connection = { host: '127.0.0.1', port: 6379 };
const queue = instrumentQueue(telemetry, new Queue('q_import', { connection, prefix }));
monitorQueueDepth(telemetry, queue);
const ai = createAiCoachClient(telemetry, { baseUrl: edge });
const s3 = createVendorClient(telemetry, { vendor: 's3', baseUrl: edge });
const binance = createVendorClient(telemetry, { vendor: 'binance', baseUrl: edge });
const outbox = createOutbox(telemetry, { types: ['coach.reflection', 'import.progress'] });
const digests = createDigestRecorder(telemetry);
let sims = 0;

const worker = instrumentWorker(
  telemetry,
  new Worker(
    'q_import',
    instrumentProcessor(
      telemetry,
      async (job) => {
        switch (job.name) {
          case 'import.trades':
            await binance.fetch('/vendor/binance');
            await job.updateProgress(100);
            outbox.append({ type: 'import.progress', payload: { pct: 100 } });
            break;
          case 'simulate.simple':
            markJobCache(sims++ % 2 === 0 ? 'warm' : 'cold');
            break;
          case 'score.bias':
            await ai.fetch('/v1/bias/score', { method: 'POST', body: '{}' });
            await ai.fetch('/v1/nlg/reflect', { method: 'POST', body: '{}' });
            outbox.append({ type: 'coach.reflection', payload: {} });
            break;
          case 'digest.weekly':
            digests.due(10);
            for (let i = 0; i < 9; i++) digests.delivered();
            digests.failed();
            await s3.fetch('/vendor/s3');
            break;
        }
      },
      { jobLabel: SPEC_JOB_LABELS },
    ),
    { connection, prefix, concurrency: 4 },
  ),
);

const server = createServer((req, res) => telemetry.metricsHandler(req, res));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;

const names = ['import.trades', 'simulate.simple', 'score.bias', 'digest.weekly'];
let tick = 0;
const load = setInterval(() => {
  void queue.add(names[tick++ % names.length]!, {}).catch(() => undefined);
}, 150);

process.stdout.write(`READY ${port}\n`);
process.once('SIGTERM', () => {
  clearInterval(load);
  void (async () => {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    server.close();
    await telemetry.shutdown();
    process.exit(0);
  })();
});
