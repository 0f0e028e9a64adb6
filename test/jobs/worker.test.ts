import { SpanStatusCode } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  instrumentProcessor,
  instrumentQueue,
  instrumentWorker,
  SPEC_JOB_LABELS,
} from '../../src/bullmq.js';
import {
  BULLMQ_MAJORS,
  createHarness,
  linesWith,
  sample,
  spansNamed,
  type Harness,
} from './helpers.js';

// The spec's job label values, as a service of that product configures them.
const SPEC_LABELS = { jobLabel: SPEC_JOB_LABELS };

describe.each(BULLMQ_MAJORS)('BullMQ $major: worker runs', ({ mod }) => {
  let h: Harness;

  afterEach(async () => {
    await h.cleanup();
  });

  it('logs attempts 1–3 of a job that fails twice then succeeds, and records two failures', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('import');
    const queue = instrumentQueue(telemetry, h.queue(mod, queueName));
    let runs = 0;
    const worker = h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(
          telemetry,
          async () => {
            runs++;
            if (runs < 3)
              throw Object.assign(new Error(`broker timeout #${runs}`), { code: 'E_BROKER' });
            return { imported: 500 };
          },
          SPEC_LABELS,
        ),
        h.opts,
      ),
    );
    await worker.waitUntilReady();
    const job = await queue.add('import.trades', { userId: 'u_1' }, { attempts: 3 });
    await vi.waitFor(() => expect(linesWith(h.lines(), 'job completed')).toHaveLength(1), {
      timeout: 10_000,
    });

    const lines = h.lines().filter((l) => l.jobId === job.id);
    expect(linesWith(lines, 'job started').map((l) => l.attempt)).toEqual([1, 2, 3]);
    const failed = linesWith(lines, 'job failed');
    expect(failed.map((l) => [l.attempt, l.level])).toEqual([
      [1, 'warn'],
      [2, 'warn'],
    ]);
    for (const [i, line] of failed.entries()) {
      expect(line.error).toMatchObject({
        type: 'Error',
        code: 'E_BROKER',
        message: `broker timeout #${i + 1}`,
      });
      expect(line.extra).toEqual({ status: 'failed', final: false });
      expect(typeof line.latency_ms).toBe('number');
    }
    expect(linesWith(lines, 'job completed').map((l) => l.attempt)).toEqual([3]);

    // Metrics: the spec's job label value, two non-final failures, two retries.
    const text = await telemetry.metricsText();
    const q = { queue: queueName, job: 'import', service: 'workers' };
    expect(sample(text, 'job_failures_total', { ...q, final: 'false' })).toBe(2);
    expect(sample(text, 'job_failures_total', { ...q, final: 'true' })).toBeUndefined();
    expect(sample(text, 'job_attempts_total', q)).toBe(3);
    expect(sample(text, 'job_retries_total', q)).toBe(2);
    expect(sample(text, 'job_duration_ms_count', { ...q, status: 'failed' })).toBe(2);
    expect(sample(text, 'job_duration_ms_count', { ...q, status: 'completed' })).toBe(1);

    // Three runs in the producer's trace; the failed ones carry the error.
    await vi.waitFor(() => expect(spansNamed(h.spans(), `process ${queueName}`)).toHaveLength(3));
    const [enqueue] = spansNamed(h.spans(), `enqueue ${queueName}`);
    const runSpans = spansNamed(h.spans(), `process ${queueName}`);
    expect(runSpans.map((s) => s.attributes['bullmq.job.attempt'])).toEqual([1, 2, 3]);
    expect(runSpans.map((s) => s.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    for (const s of runSpans)
      expect(s.parentSpanContext?.spanId).toBe(enqueue!.spanContext().spanId);
  });

  it('logs the last failure once as an error, with redacted text on the log line and the span', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('score');
    const queue = h.queue(mod, queueName);
    const worker = h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(
          telemetry,
          async () => {
            throw new Error('no trades for alice@example.com');
          },
          SPEC_LABELS,
        ),
        h.opts,
      ),
    );
    await worker.waitUntilReady();
    const job = await queue.add('score.bias', { tradeId: 't_1' });
    await vi.waitFor(() => expect(linesWith(h.lines(), 'job failed')).toHaveLength(1), {
      timeout: 10_000,
    });

    const [line] = linesWith(h.lines(), 'job failed');
    expect(line).toMatchObject({
      level: 'error',
      jobId: job.id,
      attempt: 1,
      extra: { status: 'failed', final: true },
    });
    expect(line!.error).toMatchObject({ message: 'no trades for [EMAIL]' });
    expect(h.logs.text()).not.toContain('alice@example.com');
    expect(h.lines().filter((l) => l.level === 'error')).toHaveLength(1);

    await vi.waitFor(() => expect(spansNamed(h.spans(), `process ${queueName}`)).toHaveLength(1));
    const [span] = spansNamed(h.spans(), `process ${queueName}`);
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no trades for [EMAIL]' });
    expect(span!.attributes['bullmq.job.final']).toBe(true);
    expect(JSON.stringify(span!.events)).not.toContain('alice@example.com');
    expect(
      span!.events.find((e) => e.name === 'exception')?.attributes?.['exception.message'],
    ).toBe('no trades for [EMAIL]');
    const text = await telemetry.metricsText();
    expect(
      sample(text, 'job_failures_total', { queue: queueName, job: 'score', final: 'true' }),
    ).toBe(1);
  });

  it('treats a job moved to delayed by its processor as deferred, not failed', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('sim');
    const queue = h.queue(mod, queueName);
    const worker = h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(
          telemetry,
          async (job, token) => {
            if (job.attemptsStarted > 1) return 'done';
            await job.moveToDelayed(Date.now() + 50, token);
            throw new mod.DelayedError();
          },
          SPEC_LABELS,
        ),
        h.opts,
      ),
    );
    await worker.waitUntilReady();
    await queue.add('simulate.simple', {});
    await vi.waitFor(() => expect(linesWith(h.lines(), 'job completed')).toHaveLength(1), {
      timeout: 10_000,
    });

    const [deferred] = linesWith(h.lines(), 'job deferred');
    expect(deferred).toMatchObject({
      level: 'info',
      extra: { status: 'deferred', reason: 'DelayedError' },
    });
    expect(linesWith(h.lines(), 'job failed')).toHaveLength(0);
    const text = await telemetry.metricsText();
    expect(
      sample(text, 'job_duration_ms_count', { queue: queueName, job: 'sim', status: 'deferred' }),
    ).toBe(1);
    expect(
      sample(text, 'job_failures_total', { queue: queueName, job: 'sim', final: 'false' }),
    ).toBeUndefined();
  });

  it('surfaces job.updateProgress as throttled progress lines with the broker, and span events', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('import');
    const queue = h.queue(mod, queueName);
    const worker = h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(telemetry, async (job) => {
          await job.updateProgress(10);
          await job.updateProgress(20); // within the interval: not logged
          await job.updateProgress({ page: 3, pages: 4 }); // within the interval: not logged
          await job.updateProgress(100); // always logged
        }),
        h.opts,
      ),
    );
    await worker.waitUntilReady();
    const job = await queue.add('import.trades', { userId: 'u_1', broker: 'binance' });
    await vi.waitFor(() => expect(linesWith(h.lines(), 'job completed')).toHaveLength(1), {
      timeout: 10_000,
    });

    const progress = linesWith(h.lines(), 'job progress');
    expect(progress.map((l) => (l.extra as { progress: unknown }).progress)).toEqual([10, 100]);
    for (const line of progress) {
      expect(line).toMatchObject({
        broker: 'binance',
        queue: queueName,
        job: 'import.trades',
        jobId: job.id,
        attempt: 1,
      });
    }
    expect((await queue.getJob(job.id!))!.progress).toBe(100);
    await vi.waitFor(() => expect(spansNamed(h.spans(), `process ${queueName}`)).toHaveLength(1));
    const [span] = spansNamed(h.spans(), `process ${queueName}`);
    expect(
      span!.events
        .filter((e) => e.name === 'job progress')
        .map((e) => e.attributes?.['bullmq.job.progress']),
    ).toEqual([10, 20, undefined, 100]);
  });

  it('keeps running jobs when an option callback throws, and counts the fault', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('faulty');
    const queue = h.queue(mod, queueName);
    const worker = h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(
          telemetry,
          async (job) => {
            await job.updateProgress(100);
            return 'ok';
          },
          {
            jobLabel: () => {
              throw new Error('mapping broke');
            },
            broker: () => {
              throw new Error('broker broke');
            },
          },
        ),
        h.opts,
      ),
    );
    await worker.waitUntilReady();
    const completed = new Promise((resolve) =>
      worker.on('completed', (_job, result) => resolve(result)),
    );
    await queue.add('import.trades', {});
    await expect(completed).resolves.toBe('ok');

    const text = await telemetry.metricsText();
    expect(
      sample(text, 'job_duration_ms_count', {
        queue: queueName,
        job: 'import.trades',
        status: 'completed',
      }),
    ).toBe(1);
    expect(telemetry.selfMetrics.internalErrorsTotal.read({ component: 'jobs' })).toBe(2);
    expect(linesWith(h.lines(), 'job progress')[0]!.broker).toBeUndefined();
  });

  it('counts stalled jobs', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('stall');
    const queue = h.queue(mod, queueName);
    // A worker takes the job and disappears without releasing it…
    let started!: () => void;
    const taken = new Promise<void>((resolve) => (started = resolve));
    const first = new mod.Worker(
      queueName,
      async () => {
        started();
        await new Promise(() => undefined);
      },
      // The stalled check is rate limited per queue by its interval: keep it short here too.
      { ...h.opts, lockDuration: 600, stalledInterval: 300 },
    );
    await first.waitUntilReady();
    await queue.add('import.trades', {});
    await taken;
    await first.close(true);
    await first.disconnect();

    // …and another worker's stalled check finds it once the lock expired.
    const second = instrumentWorker(
      telemetry,
      h.track(
        new mod.Worker(
          queueName,
          instrumentProcessor(telemetry, async () => 'ok'),
          {
            ...h.opts,
            stalledInterval: 300,
            lockDuration: 600,
          },
        ),
      ),
    );
    await second.waitUntilReady();
    await vi.waitFor(
      () => expect(telemetry.metrics.jobStalledTotal.read({ queue: queueName })).toBe(1),
      {
        timeout: 10_000,
      },
    );
    const [line] = linesWith(h.lines(), 'job stalled');
    expect(line).toMatchObject({ level: 'warn', queue: queueName });
    expect(typeof line!.jobId).toBe('string');
  });

  it('writes worker errors as structured lines, once per message per minute', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('err');
    h.queue(mod, queueName); // obliterated at cleanup, with the worker's keys
    const worker = instrumentWorker(
      telemetry,
      h.track(
        new mod.Worker(
          queueName,
          instrumentProcessor(telemetry, async () => 1),
          h.opts,
        ),
      ),
    );
    await worker.waitUntilReady();
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    worker.emit('error', err);
    worker.emit('error', err);
    const lines = linesWith(h.lines(), 'worker error');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', error: { code: 'ECONNREFUSED' } });
  });

  it('closes the worker in the drain phase of shutdown when asked to', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('drain');
    const queue = h.queue(mod, queueName);
    let release!: () => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const worker = instrumentWorker(
      telemetry,
      h.track(
        new mod.Worker(
          queueName,
          instrumentProcessor(telemetry, async () => {
            started();
            await new Promise<void>((resolve) => (release = resolve));
            return 'finished';
          }),
          h.opts,
        ),
      ),
      { closeOnShutdown: true },
    );
    await worker.waitUntilReady();
    await queue.add('digest.weekly', {});
    await running;

    const shutdown = telemetry.shutdown();
    // The drain step starts closing the worker (BullMQ sets `closing` then).
    await vi.waitFor(() => expect(worker.closing).toBeTruthy(), { timeout: 5000, interval: 5 });
    release();
    await shutdown;
    expect(worker.isRunning()).toBe(false);
    // The active job finished before the worker closed.
    expect(linesWith(h.lines(), 'job completed')).toHaveLength(1);
  });
});
