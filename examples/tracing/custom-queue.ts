/**
 * Trace context over a queue stacklight has no adapter for (here a Redis
 * list): the producer writes the enqueue span's context into the job as
 * `_trace`, the consumer starts its span from it (docs/tracing.md § 3).
 *
 * The code samples of docs/tracing.md are the `#region`s of this file.
 */
import type { TraceCarrierHolder } from 'stacklight';
import type { ImportJob } from './types.js';
// #region custom-queue
import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { enqueueSpanName, extractContext, injectContext, withSpan } from 'stacklight';
// #endregion

/** The two Redis list commands used (an ioredis or node-redis client fits). */
export interface ListClient {
  lpush(key: string, value: string): Promise<number>;
  brpop(key: string, timeoutSeconds: number): Promise<[key: string, value: string] | null>;
}

// #region custom-queue
export async function enqueueImport(redis: ListClient, job: ImportJob): Promise<void> {
  await withSpan(
    enqueueSpanName('q_import'),
    {},
    // Inside the span: the job carries "enqueue q_import" as its parent.
    () => redis.lpush('q_import', JSON.stringify(injectContext({ ...job }, undefined, 'job'))),
    { kind: SpanKind.PRODUCER },
  );
}

export async function consumeImport(
  redis: ListClient,
  run: (job: ImportJob) => Promise<void>,
): Promise<void> {
  const popped = await redis.brpop('q_import', 5);
  if (popped === null) return;
  const job = JSON.parse(popped[1]) as ImportJob & TraceCarrierHolder;
  // The parent is what the job carries, never the ambient context.
  const parent = extractContext(job, 'job', ROOT_CONTEXT);
  await withSpan('process q_import', {}, () => run(job), {
    kind: SpanKind.CONSUMER,
    context: parent,
  });
}
// #endregion
