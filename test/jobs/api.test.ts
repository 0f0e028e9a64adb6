import { readdirSync, readFileSync } from 'node:fs';
import { SpanStatusCode } from '@opentelemetry/api';
import * as bullmq6 from 'bullmq';
import * as bullmq5 from 'bullmq5';
import { afterEach, describe, expect, it } from 'vitest';
import * as entry from '../../src/bullmq.js';
import {
  instrumentFlowProducer,
  instrumentProcessor,
  instrumentQueue,
  instrumentWorker,
  monitorQueueDepth,
  SPEC_JOB_LABELS,
} from '../../src/bullmq.js';
import type { Telemetry } from '../../src/index.js';
import { createHarness, spansNamed, type Harness } from './helpers.js';

describe('stacklight/bullmq entry', () => {
  it('exports exactly its documented names', () => {
    expect(Object.keys(entry).sort()).toEqual([
      'DEFAULT_PROGRESS_LOG_INTERVAL_MS',
      'DEFAULT_QUEUE_DEPTH_CACHE_MS',
      'DEFAULT_QUEUE_DEPTH_TIMEOUT_MS',
      'JOB_ATTRIBUTES',
      'QUEUE_DEPTH_COMPONENT',
      'QUEUE_DEPTH_STATES',
      'SPEC_JOB_LABELS',
      'instrumentFlowProducer',
      'instrumentProcessor',
      'instrumentQueue',
      'instrumentWorker',
      'markJobCache',
      'monitorQueueDepth',
      'processSpanName',
    ]);
  });

  it('never imports bullmq at run time (types only), and the root entry does not reach it', () => {
    const files = ['src/bullmq.ts', ...readdirSync('src/jobs').map((f) => `src/jobs/${f}`)];
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      // Real statements only (doc comments show `import … from 'bullmq'` in
      // examples); `import type` is erased from the build.
      expect(source, file).not.toMatch(/^(import|export) (?!type )[^;]*from ['"]bullmq/m);
      expect(source, file).not.toMatch(/^[^*]*import\(['"]bullmq/m);
    }
    const root = readFileSync('src/index.ts', 'utf8');
    expect(root).not.toMatch(/['"]\.\/(bullmq|jobs)/);
  });

  it('maps the product job names to the spec label values', () => {
    expect(SPEC_JOB_LABELS).toEqual({
      'import.trades': 'import',
      'score.bias': 'score',
      'simulate.simple': 'sim',
      'digest.weekly': 'digest',
    });
  });
});

describe('instrumentation without Redis', () => {
  let h: Harness;

  afterEach(async () => {
    await h.cleanup();
  });

  it('passes a failed enqueue through unchanged and records it on the span', async () => {
    h = createHarness();
    const boom = Object.assign(new Error('Connection is closed.'), { code: 'ECONNCLOSED' });
    const queue = instrumentQueue(h.telemetry, {
      name: 'q_import',
      add: (_name: string, _data: object) => Promise.reject(boom),
      addBulk: (_jobs: { name: string; data: object }[]) => Promise.reject(boom),
    });
    await expect(queue.add('import.trades', {})).rejects.toBe(boom);
    await expect(queue.addBulk([{ name: 'import.trades', data: {} }])).rejects.toBe(boom);
    const spans = spansNamed(h.spans(), 'enqueue q_import');
    expect(spans).toHaveLength(2);
    for (const s of spans)
      expect(s.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Connection is closed.' });
  });

  it('instruments a queue once however often it is asked to', async () => {
    h = createHarness();
    const added: unknown[] = [];
    const raw = {
      name: 'q_score',
      add: (_n: string, data: unknown) => {
        added.push(data);
        return Promise.resolve({ id: '1' });
      },
      addBulk: () => Promise.resolve([]),
    };
    const queue = instrumentQueue(h.telemetry, instrumentQueue(h.telemetry, raw));
    await queue.add('score.bias', { a: 1 });
    expect(spansNamed(h.spans(), 'enqueue q_score')).toHaveLength(1);
    expect(Object.keys(added[0] as object)).toEqual(['a', '_trace']);
  });

  it('replaces a stale _trace when re-enqueuing job data, and drops it with tracing off', async () => {
    const stale = { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` };
    const added: Record<string, unknown>[] = [];
    const fake = () => ({
      name: 'q_score',
      add: (_n: string, data: Record<string, unknown>) => {
        added.push(data);
        return Promise.resolve({ id: '1' });
      },
      addBulk: (_jobs: object[]) => Promise.resolve([]),
    });

    h = createHarness();
    await instrumentQueue(h.telemetry, fake()).add('score.bias', { a: 1, _trace: stale });
    const [enqueue] = spansNamed(h.spans(), 'enqueue q_score');
    expect(added[0]!._trace).toEqual({
      traceparent: `00-${enqueue!.spanContext().traceId}-${enqueue!.spanContext().spanId}-03`, // sampled, random
    });
    await h.cleanup();

    h = createHarness({ tracing: { enabled: false } });
    const data = { a: 1, _trace: stale };
    await instrumentQueue(h.telemetry, fake()).add('score.bias', data);
    expect(added[1]).toEqual({ a: 1 });
    expect(data._trace).toBe(stale);
  });

  it("warns once when BullMQ's own telemetry option is also set", async () => {
    h = createHarness();
    const make = () => ({
      name: 'q_import',
      opts: { telemetry: { tracer: {}, contextManager: {} } },
      add: (_n: string, _d: object) => Promise.resolve({ id: '1' }),
      addBulk: (_jobs: object[]) => Promise.resolve([]),
    });
    instrumentQueue(h.telemetry, make());
    instrumentQueue(h.telemetry, make());
    const warnings = h
      .lines()
      .filter((l) => String(l.msg).includes("BullMQ's own telemetry option"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('bullmq.job.result');
  });

  it('passes result, errors, this and arity of the processor through', async () => {
    h = createHarness();
    const job = {
      name: 'digest.weekly',
      id: '7',
      queueName: 'q_digest',
      data: {},
      attemptsMade: 0,
      updateProgress: () => Promise.resolve(),
    };
    const self = { worker: true };
    const three = instrumentProcessor(
      h.telemetry,
      async function (this: unknown, _job: unknown, token?: string, signal?: AbortSignal) {
        return { self: this, token, signal };
      },
    );
    expect(three.length).toBe(3);
    const signal = new AbortController().signal;
    await expect(three.call(self, job as never, 'tok', signal)).resolves.toEqual({
      self,
      token: 'tok',
      signal,
    });
    const err = new Error('nope');
    const failing = instrumentProcessor(h.telemetry, async (_job: unknown) => {
      throw err;
    });
    expect(failing.length).toBe(1);
    await expect(failing(job as never)).rejects.toBe(err);
  });

  it('rejects invalid options with messages naming the option', () => {
    h = createHarness();
    const t = h.telemetry;
    const p = async () => undefined;
    expect(() => instrumentProcessor(t, p, { traceMode: 'child' as 'parent' })).toThrow(
      'stacklight: instrumentProcessor.traceMode must be one of parent, link, got "child"',
    );
    expect(() => instrumentProcessor(t, p, { progressLogIntervalMs: -1 })).toThrow(
      'stacklight: instrumentProcessor.progressLogIntervalMs must be a finite number >= 0, got -1',
    );
    expect(() => instrumentProcessor(t, p, { jobLabel: { 'import.trades': '' } })).toThrow(
      'stacklight: instrumentProcessor.jobLabel["import.trades"] must be a non-empty string, got ""',
    );
    expect(() => instrumentProcessor(t, '/path/to/processor.js' as never)).toThrow(
      /instrumentProcessor\.processor must be a processor function \(a sandboxed processor file cannot be wrapped/,
    );
    const worker = { name: 'q', on: () => worker, close: () => Promise.resolve() };
    expect(() => instrumentWorker(t, worker, { closeOnShutdown: 'yes' as never })).toThrow(
      'stacklight: instrumentWorker.closeOnShutdown must be true or false, got "yes"',
    );
  });
});

/**
 * Compile-time checks: the real classes of both majors fit the structural
 * types, and the processor keeps its own type. Never called.
 */
export function typeChecks(telemetry: Telemetry): void {
  const connection = { host: '127.0.0.1', port: 6379 };
  const q6: bullmq6.Queue<{ userId: string }> = instrumentQueue(
    telemetry,
    new bullmq6.Queue('q', { connection }),
  );
  const q5: bullmq5.Queue = instrumentQueue(telemetry, new bullmq5.Queue('q', { connection }));
  instrumentFlowProducer(telemetry, new bullmq6.FlowProducer({ connection }));
  instrumentFlowProducer(telemetry, new bullmq5.FlowProducer({ connection }));
  monitorQueueDepth(telemetry, [q6, q5]);

  const typed = instrumentProcessor(
    telemetry,
    async (job: bullmq6.Job<{ userId: string }, number>) => job.data.userId.length,
  );
  const _n: (job: bullmq6.Job<{ userId: string }, number>) => Promise<number> = typed;
  const w6 = instrumentWorker(telemetry, new bullmq6.Worker('q', typed, { connection }), {
    closeOnShutdown: true,
  });
  const w5 = instrumentWorker(
    telemetry,
    new bullmq5.Worker(
      'q',
      instrumentProcessor(telemetry, async (job: bullmq5.Job) => job.id),
      { connection },
    ),
  );
  void [w6, w5, _n];
  // @ts-expect-error a sandboxed processor file is not a function
  instrumentProcessor(telemetry, '/path/to/processor.js');
  // @ts-expect-error traceMode is parent or link
  instrumentProcessor(telemetry, async () => 1, { traceMode: 'child' });
}
