import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { instrumentProcessor, instrumentQueue } from '../../src/bullmq.js';
import {
  extractContext,
  injectContext,
  runWithContext,
  TRACE_CARRIER_KEY,
} from '../../src/index.js';
import {
  BULLMQ_MAJORS,
  createHarness,
  linesWith,
  listen,
  spansNamed,
  type Harness,
} from './helpers.js';

describe.each(BULLMQ_MAJORS)('BullMQ $major: one trace across the queue', ({ mod }) => {
  let h: Harness;
  const closers: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await h.cleanup();
  });

  it('runs from an HTTP request through Queue.add, the worker and an outbound AI call as one trace', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('import');

    // The AI Coach: continues the trace from the request headers.
    const ai = await listen((req, res) => {
      const parent = extractContext(req.headers, 'http');
      const span = telemetry.tracer.startSpan(
        'HTTP /v1/bias/score',
        { kind: SpanKind.SERVER },
        parent,
      );
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"score":0.4}');
      span.end();
    });
    closers.push(ai.close);

    // The worker: one added call around the processor.
    const worker = h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(telemetry, async (job) => {
          telemetry.logger.info(
            { broker: (job.data as { broker: string }).broker },
            'calling the AI coach',
          );
          const res = await fetch(`${ai.url}/v1/bias/score`, {
            method: 'POST',
            headers: injectContext({ 'content-type': 'application/json' }, undefined, 'record'),
            body: '{}',
          });
          return (await res.json()) as unknown;
        }),
        h.opts,
      ),
    );
    await worker.waitUntilReady();

    // The Core API: a server span per request, the job enqueued inside it.
    const queue = instrumentQueue(telemetry, h.queue(mod, queueName));
    const payload = { userId: 'u_1', broker: 'binance' };
    let jobId: string | undefined;
    const core = await listen((req, res) => {
      const parent = extractContext(req.headers, 'http');
      const span = telemetry.tracer.startSpan(
        'HTTP /trades/import',
        { kind: SpanKind.SERVER },
        parent,
      );
      void runWithContext({ requestId: 'req-1', route: '/trades/import', method: 'POST' }, () =>
        context.with(trace.setSpan(parent, span), async () => {
          const job = await queue.add('import.trades', payload);
          jobId = job.id;
          res.writeHead(202).end();
          span.end();
        }),
      );
    });
    closers.push(core.close);

    const res = await fetch(`${core.url}/trades/import`, { method: 'POST' });
    expect(res.status).toBe(202);
    await vi.waitFor(() => expect(linesWith(h.lines(), 'job completed')).toHaveLength(1), {
      timeout: 10_000,
    });
    await vi.waitFor(() => expect(spansNamed(h.spans(), `process ${queueName}`)).toHaveLength(1));

    const spans = h.spans();
    const [http] = spansNamed(spans, 'HTTP /trades/import');
    const [enqueue] = spansNamed(spans, `enqueue ${queueName}`);
    const [process] = spansNamed(spans, `process ${queueName}`);
    const [aiSpan] = spansNamed(spans, 'HTTP /v1/bias/score');
    expect(http && enqueue && process && aiSpan).toBeTruthy();
    const traceId = http!.spanContext().traceId;
    for (const s of [enqueue!, process!, aiSpan!]) expect(s.spanContext().traceId).toBe(traceId);
    expect(enqueue!.kind).toBe(SpanKind.PRODUCER);
    expect(process!.kind).toBe(SpanKind.CONSUMER);
    expect(enqueue!.parentSpanContext?.spanId).toBe(http!.spanContext().spanId);
    expect(process!.parentSpanContext?.spanId).toBe(enqueue!.spanContext().spanId);
    expect(aiSpan!.parentSpanContext?.spanId).toBe(process!.spanContext().spanId);
    expect(enqueue!.attributes).toMatchObject({
      'messaging.system': 'bullmq',
      'messaging.destination.name': queueName,
      'messaging.operation.name': 'add',
      'messaging.message.id': jobId,
    });
    expect(process!.attributes).toMatchObject({
      'messaging.destination.name': queueName,
      'messaging.message.id': jobId,
      'bullmq.job.name': 'import.trades',
      'bullmq.job.attempt': 1,
      'bullmq.job.status': 'completed',
    });
    expect(process!.status.code).toBe(SpanStatusCode.UNSET);
    // No job data, options or results on span attributes.
    for (const s of [enqueue!, process!]) {
      expect(JSON.stringify(s.attributes)).not.toContain('u_1');
      expect(JSON.stringify(s.attributes)).not.toContain('score');
    }

    // Every line of the run carries the job context and the run's span.
    const jobLines = h.lines().filter((l) => l.jobId === jobId);
    expect(jobLines.map((l) => l.msg)).toEqual([
      'job started',
      'calling the AI coach',
      'job completed',
    ]);
    for (const line of jobLines) {
      expect(line).toMatchObject({
        queue: queueName,
        job: 'import.trades',
        jobId,
        attempt: 1,
        traceId,
        spanId: process!.spanContext().spanId,
      });
      expect(line.requestId).toBeUndefined();
    }
    expect(jobLines[1]).toMatchObject({ broker: 'binance' });
    expect(jobLines[2]).toMatchObject({ level: 'info', extra: { status: 'completed' } });
    expect(typeof jobLines[2]!.latency_ms).toBe('number');
    expect(telemetry.selfMetrics.logSchemaViolationsTotal.read({ kind: 'unknown_field' })).toBe(0);
    expect(telemetry.selfMetrics.logSchemaViolationsTotal.read({ kind: 'wrong_type' })).toBe(0);

    // The job data holds the enqueue span's context; the caller's object is untouched.
    const stored = await queue.getJob(jobId!);
    const carrier = (stored!.data as Record<string, { traceparent: string }>)[TRACE_CARRIER_KEY];
    expect(carrier?.traceparent).toBe(`00-${traceId}-${enqueue!.spanContext().spanId}-03`); // sampled, random: stacklight started the trace
    expect(payload).toEqual({ userId: 'u_1', broker: 'binance' });
  });

  it('links each run to the producer in link mode, in a trace of its own', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('digest');
    const queue = instrumentQueue(telemetry, h.queue(mod, queueName));
    const worker = h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(telemetry, async () => 'ok', { traceMode: 'link' }),
        h.opts,
      ),
    );
    await worker.waitUntilReady();

    const root = telemetry.tracer.startSpan('HTTP /digests');
    await context.with(trace.setSpan(context.active(), root), () =>
      queue.addBulk([
        { name: 'digest.weekly', data: { userId: 'u_1' } },
        { name: 'digest.weekly', data: { userId: 'u_2' } },
      ]),
    );
    root.end();
    await vi.waitFor(() => expect(spansNamed(h.spans(), `process ${queueName}`)).toHaveLength(2), {
      timeout: 10_000,
    });

    const [enqueue] = spansNamed(h.spans(), `enqueue ${queueName}`);
    expect(enqueue!.attributes['messaging.batch.message_count']).toBe(2);
    expect(enqueue!.spanContext().traceId).toBe(root.spanContext().traceId);
    const runs = spansNamed(h.spans(), `process ${queueName}`);
    const traceIds = new Set(runs.map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(2);
    expect(traceIds.has(root.spanContext().traceId)).toBe(false);
    for (const run of runs) {
      expect(run.parentSpanContext).toBeUndefined();
      expect(run.links).toHaveLength(1);
      expect(run.links[0]!.context.spanId).toBe(enqueue!.spanContext().spanId);
      expect(run.links[0]!.context.traceId).toBe(root.spanContext().traceId);
    }
    // Logs follow the run's own trace.
    for (const line of linesWith(h.lines(), 'job completed')) {
      expect(traceIds.has(line.traceId as string)).toBe(true);
    }
  });

  it('carries the trace into every job of a flow', async () => {
    h = createHarness();
    const { telemetry } = h;
    const parentQueue = h.name('digest');
    const childQueue = h.name('score');
    const parentQ = h.queue(mod, parentQueue);
    const childQ = h.queue(mod, childQueue);
    const { instrumentFlowProducer } = await import('../../src/bullmq.js');
    const flows = instrumentFlowProducer(telemetry, h.track(new mod.FlowProducer(h.opts), 'queue'));

    const root = telemetry.tracer.startSpan('HTTP /digests');
    const node = await context.with(trace.setSpan(context.active(), root), () =>
      flows.add({
        name: 'digest.weekly',
        queueName: parentQueue,
        data: { userId: 'u_1' },
        children: [{ name: 'score.bias', queueName: childQueue, data: { tradeId: 't_1' } }],
      }),
    );
    root.end();

    const [enqueue] = spansNamed(h.spans(), `enqueue ${parentQueue}`);
    expect(enqueue).toBeDefined();
    expect(enqueue!.attributes['messaging.batch.message_count']).toBe(2);
    expect(enqueue!.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    const expected = `00-${root.spanContext().traceId}-${enqueue!.spanContext().spanId}-03`; // sampled, random
    const parentJob = await parentQ.getJob(node.job.id!);
    const childJob = await childQ.getJob(node.children![0]!.job.id!);
    expect((parentJob!.data as Record<string, { traceparent: string }>)._trace!.traceparent).toBe(
      expected,
    );
    expect((childJob!.data as Record<string, { traceparent: string }>)._trace!.traceparent).toBe(
      expected,
    );
    expect(childJob!.data).toMatchObject({ tradeId: 't_1' });

    // The child's worker continues that trace.
    const worker = h.track(
      new mod.Worker(
        childQueue,
        instrumentProcessor(telemetry, async () => 1),
        h.opts,
      ),
    );
    await worker.waitUntilReady();
    await vi.waitFor(() => expect(spansNamed(h.spans(), `process ${childQueue}`)).toHaveLength(1), {
      timeout: 10_000,
    });
    const [run] = spansNamed(h.spans(), `process ${childQueue}`);
    expect(run!.parentSpanContext?.spanId).toBe(enqueue!.spanContext().spanId);
  });

  it('starts a new trace for a job whose data cannot carry one', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('plain');
    const queue = instrumentQueue(telemetry, h.queue(mod, queueName));
    const worker = h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(telemetry, async (job) => job.data),
        h.opts,
      ),
    );
    await worker.waitUntilReady();

    const root = telemetry.tracer.startSpan('HTTP /plain');
    const job = await context.with(trace.setSpan(context.active(), root), () =>
      queue.add('plain', 'just a string' as unknown as object),
    );
    root.end();
    await vi.waitFor(() => expect(spansNamed(h.spans(), `process ${queueName}`)).toHaveLength(1), {
      timeout: 10_000,
    });
    expect((await queue.getJob(job.id!))!.data).toBe('just a string');
    const [run] = spansNamed(h.spans(), `process ${queueName}`);
    expect(run!.parentSpanContext).toBeUndefined();
    expect(run!.spanContext().traceId).not.toBe(root.spanContext().traceId);
  });
});
