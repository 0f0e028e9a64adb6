import * as bullmq6 from 'bullmq';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { instrumentProcessor, instrumentQueue } from '../../src/bullmq.js';
import { flushSentry } from '../../src/logging/sentry.js';
import { sentryEvents, startSentryIngest, type SentryIngest } from '../helpers/sentry-ingest.js';
import { createHarness, linesWith, sample, type Harness } from './helpers.js';

let h: Harness | undefined;
let ingest: SentryIngest | undefined;

afterEach(async () => {
  await h?.cleanup();
  await ingest?.close();
});

describe('BullMQ jobs and Sentry', () => {
  it('captures a job that fails for good, with its queue, job and job id; retries are not captured', async () => {
    ingest = await startSentryIngest();
    h = createHarness({ sentry: { dsn: ingest.url }, shutdown: { handleCrashes: false } });
    const { telemetry } = h;
    const queueName = h.name('import');
    const queue = instrumentQueue(telemetry, h.queue(bullmq6, queueName));
    const worker = h.track(
      new bullmq6.Worker(
        queueName,
        instrumentProcessor(telemetry, async (job) => {
          throw new Error(`broker refused attempt ${job.attemptsMade + 1} for eve@example.com`);
        }),
        h.opts,
      ),
    );
    await worker.waitUntilReady();
    const job = await queue.add('import.trades', {}, { attempts: 2 });
    await vi.waitFor(
      () =>
        expect(linesWith(h!.lines(), 'job failed').filter((l) => l.level === 'error')).toHaveLength(
          1,
        ),
      { timeout: 10_000 },
    );
    await telemetry.ready();
    await flushSentry(5000);
    const events = sentryEvents(ingest.bodies);
    expect(events).toHaveLength(1);
    expect(events[0]!.exception?.values?.[0]?.value).toBe('broker refused attempt 2 for [EMAIL]');
    expect(events[0]!.tags).toMatchObject({
      queue: queueName,
      job: 'import.trades',
      jobId: job.id,
      attempt: '2',
      service: 'workers',
    });
    // The job label is the job name as given unless jobLabel maps it.
    const text = await telemetry.metricsText();
    expect(
      sample(text, 'job_failures_total', { queue: queueName, job: 'import.trades', final: 'true' }),
    ).toBe(1);
  });
});
