import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  instrumentProcessor,
  instrumentQueue,
  markJobCache,
  SPEC_JOB_LABELS,
} from '../../src/bullmq.js';
import { BULLMQ_MAJORS, createHarness, linesWith, type Harness } from '../jobs/helpers.js';

describe.each(BULLMQ_MAJORS)('BullMQ $major: job_completion_duration_seconds', ({ mod }) => {
  let h: Harness;
  afterEach(async () => {
    await h.cleanup();
  });

  it('counts a job once, at its last run, from being added (retries included), with its cache state', async () => {
    h = createHarness();
    const { telemetry } = h;
    const queueName = h.name('sim');
    const queue = instrumentQueue(telemetry, h.queue(mod, queueName));
    let runs = 0;
    const outside = markJobCache('warm');
    h.track(
      new mod.Worker(
        queueName,
        instrumentProcessor(
          telemetry,
          async (job) => {
            runs++;
            if (job.name === 'simulate.simple') {
              expect(markJobCache(runs === 1 ? 'cold' : 'warm')).toBe(true);
              if (runs === 1) throw new Error('cache miss, retry');
            }
            if (job.name === 'import.trades') throw new Error('broker down');
            return 1;
          },
          { jobLabel: SPEC_JOB_LABELS },
        ),
        h.opts,
      ),
    );
    const added = Date.now();
    await queue.add('simulate.simple', {}, { attempts: 2 });
    await queue.add('import.trades', {}, { attempts: 1 });
    await vi.waitFor(
      () => {
        expect(linesWith(h.lines(), 'job completed')).toHaveLength(1);
        expect(linesWith(h.lines(), 'job failed')).toHaveLength(2);
      },
      { timeout: 10_000 },
    );
    const elapsed = (Date.now() - added) / 1000;
    const m = telemetry.metrics.jobCompletionDurationSeconds;
    const sim = m.read({ queue: queueName, job: 'sim', status: 'completed', cache: 'warm' });
    expect(sim.count).toBe(1); // the retried attempt did not count
    expect(sim.sum).toBeGreaterThan(0);
    expect(sim.sum).toBeLessThanOrEqual(elapsed + 0.001);
    expect(m.read({ queue: queueName, job: 'sim', status: 'completed', cache: 'cold' }).count).toBe(
      0,
    );
    // A final failure counts as a completion with status failed, cache none.
    expect(m.read({ queue: queueName, job: 'import', status: 'failed', cache: 'none' }).count).toBe(
      1,
    );
    expect(outside).toBe(false); // outside a job run it does nothing
  });
});
