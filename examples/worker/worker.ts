/**
 * A BullMQ worker service instrumented with stacklight (docs/workers.md).
 *
 * Run (Redis on 127.0.0.1:6379, or REDIS_HOST / REDIS_PORT):
 *   node --import tsx examples/worker/worker.ts
 * then   curl localhost:9464/metrics   (job_duration_ms, queue_depth, job_*_total)
 *
 * It enqueues one `import.trades` job from inside a request-like span, so the
 * console shows one trace: HTTP /trades/import → enqueue q_import →
 * process q_import → import.page spans. Ctrl-C drains the worker and exits.
 */
import { SpanKind, context, trace } from '@opentelemetry/api';
import { Queue, Worker, type Job } from 'bullmq';
import { init, injectContext, SPAN_NAMES, withSpan } from 'stacklight';
import {
  instrumentProcessor,
  instrumentQueue,
  instrumentWorker,
  monitorQueueDepth,
} from 'stacklight/bullmq';

interface ImportTrades {
  userId: string;
  broker: string;
  pages: number;
}

const telemetry = init({
  service: 'workers',
  env: 'development',
  // A worker has no HTTP server of its own: serve /metrics on a port.
  metrics: { port: Number(process.env.METRICS_PORT ?? 9464) },
  // No collector in the example: print spans instead (OTEL_TRACES_EXPORTER=otlp to export).
  tracing: { exporter: process.env.OTEL_TRACES_EXPORTER ? undefined : 'console' },
  shutdown: { handleSignals: true },
});
const { logger, tracer } = telemetry;

const connection = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};

// Producer side (in the product: Core API). One added call: instrumentQueue.
const imports = instrumentQueue(telemetry, new Queue<ImportTrades>('q_import', { connection }));
// queue_depth{queue="q_import",state=…}, read when /metrics is scraped.
monitorQueueDepth(telemetry, imports);

// Consumer side. The processor is plain BullMQ code; the spans inside a run
// are the spec's (import.page), the run itself is traced by stacklight.
async function importTrades(job: Job<ImportTrades>): Promise<{ imported: number }> {
  logger.info({ broker: job.data.broker }, 'import started'); // carries queue, job, jobId, attempt, traceId
  let imported = 0;
  for (let page = 1; page <= job.data.pages; page++) {
    imported += await withSpan(SPAN_NAMES.importPage.name, { 'import.page': page }, async () => {
      // A call to a broker or to the AI Coach carries the trace on:
      //   await fetch(url, { headers: injectContext({}, undefined, 'record') });
      void injectContext({}, undefined, 'record');
      await new Promise((resolve) => setTimeout(resolve, 50));
      return 100;
    });
    await job.updateProgress(Math.round((page / job.data.pages) * 100));
  }
  return { imported };
}

// One added call around the processor, one around the worker (stalled jobs,
// Redis errors as log lines, graceful close on shutdown).
const worker = instrumentWorker(
  telemetry,
  new Worker('q_import', instrumentProcessor(telemetry, importTrades), { connection }),
  { closeOnShutdown: true },
);
// The queue connection closes after the worker drained.
telemetry.onShutdown('close', 'q_import', () => imports.close());

// Enqueue one job the way the Core API does inside POST /trades/import.
const request = tracer.startSpan('HTTP /trades/import', { kind: SpanKind.SERVER });
await context.with(trace.setSpan(context.active(), request), async () => {
  const job = await imports.add('import.trades', { userId: 'u_42', broker: 'binance', pages: 3 });
  logger.info({ jobId: job.id }, 'import enqueued');
});
request.end();

worker.on('completed', (job) => {
  logger.info({ jobId: job.id }, 'example: job done; Ctrl-C to stop');
});
