import { afterEach, describe, expect, it, vi } from 'vitest';
import { monitorQueueDepth } from '../../src/bullmq.js';
import { BULLMQ_MAJORS, closedPort, createHarness, sample, type Harness } from './helpers.js';

describe.each(BULLMQ_MAJORS)('BullMQ $major: queue_depth', ({ mod }) => {
  let h: Harness;

  afterEach(async () => {
    vi.restoreAllMocks();
    await h.cleanup();
  });

  it('reports the known number of waiting, delayed and prioritized jobs per state', async () => {
    h = createHarness();
    const { telemetry } = h;
    const name = h.name('import');
    const queue = h.queue(mod, name);
    await queue.addBulk([
      { name: 'import.trades', data: {} },
      { name: 'import.trades', data: {} },
      { name: 'import.trades', data: {} },
    ]);
    await queue.add('import.trades', {}, { delay: 60_000 });
    await queue.add('import.trades', {}, { delay: 60_000 });
    await queue.add('import.trades', {}, { priority: 5 });
    monitorQueueDepth(telemetry, queue, { cacheMs: 0 });

    const text = await telemetry.metricsText();
    const depth = (state: string) =>
      sample(text, 'queue_depth', { queue: name, state, service: 'workers' });
    expect(depth('waiting')).toBe(3);
    expect(depth('delayed')).toBe(2);
    expect(depth('prioritized')).toBe(1);
    expect(depth('active')).toBe(0);
    expect(depth('failed')).toBe(0);
    expect(telemetry.selfMetrics.internalErrorsTotal.read({ component: 'queue_depth' })).toBe(0);
  });

  it('serves counts from its cache within cacheMs, and reads again after', async () => {
    h = createHarness();
    const { telemetry } = h;
    const name = h.name('score');
    const queue = h.queue(mod, name);
    await queue.add('score.bias', {});
    let reads = 0;
    const counted = {
      name: queue.name,
      getJobCounts: (...types: Parameters<typeof queue.getJobCounts>) => {
        reads++;
        return queue.getJobCounts(...types);
      },
    };
    // The cache's clock is faked (Date only: Redis I/O and timers stay real).
    let now = Date.now();
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    const stop = monitorQueueDepth(telemetry, counted, { cacheMs: 300, states: ['waiting'] });
    const waiting = async () =>
      sample(await telemetry.metricsText(), 'queue_depth', { queue: name, state: 'waiting' });

    expect(await Promise.all([waiting(), waiting()])).toEqual([1, 1]); // concurrent scrapes share one read
    await queue.add('score.bias', {});
    expect(await waiting()).toBe(1);
    expect(reads).toBe(1);
    now += 299;
    expect(await waiting()).toBe(1); // still within cacheMs
    expect(reads).toBe(1);
    now += 1;
    expect(await waiting()).toBe(2);
    expect(reads).toBe(2);

    stop();
    expect(await waiting()).toBeUndefined();
    clock.mockRestore();
  });

  it('answers /metrics within its bound when Redis is unreachable, and counts the failed read', async () => {
    h = createHarness({ metrics: { collectTimeoutMs: 1000 } });
    const { telemetry } = h;
    const port = await closedPort();
    const name = h.name('dead');
    const dead = h.track(
      new mod.Queue(name, { connection: { host: '127.0.0.1', port }, prefix: h.prefix }),
      'queue',
    );
    dead.on('error', () => undefined);
    const live = h.queue(mod, h.name('live'));
    await live.add('import.trades', {});
    monitorQueueDepth(telemetry, [dead, live], { timeoutMs: 200, cacheMs: 60_000 });

    let started = performance.now();
    let text = await telemetry.metricsText();
    expect(performance.now() - started).toBeLessThan(900);
    expect(sample(text, 'queue_depth', { queue: name, state: 'waiting' })).toBeUndefined();
    expect(sample(text, 'queue_depth', { queue: live.name, state: 'waiting' })).toBe(1);
    // Counted at once; the exposition shows it from the next scrape on (the
    // self-metrics of a scrape are rendered while the collectors run).
    expect(telemetry.selfMetrics.internalErrorsTotal.read({ component: 'queue_depth' })).toBe(1);
    const warning = h.lines().find((l) => String(l.msg).includes(`depth of queue "${name}"`));
    expect(warning).toMatchObject({ level: 'warn', extra: { stacklight: 'queue_depth' } });

    // Within cacheMs the dead queue is not asked again: the scrape is immediate.
    started = performance.now();
    text = await telemetry.metricsText();
    expect(performance.now() - started).toBeLessThan(100);
    expect(sample(text, 'stacklight_internal_errors_total', { component: 'queue_depth' })).toBe(1);
  });

  it('rejects invalid options with a message naming the option', () => {
    h = createHarness({ metrics: { collectTimeoutMs: 1000 } });
    const queue = h.queue(mod, h.name('opts'));
    expect(() => monitorQueueDepth(h.telemetry, queue, { timeoutMs: 1000 })).toThrow(
      'stacklight: monitorQueueDepth.timeoutMs must be a number of ms > 0 and below metrics.collectTimeoutMs (1000), got 1000',
    );
    expect(() =>
      monitorQueueDepth(h.telemetry, queue, { states: ['waiting', 'paused' as 'waiting'] }),
    ).toThrow(
      /monitorQueueDepth\.states must be a non-empty list of waiting, active, delayed, failed, prioritized/,
    );
    expect(() => monitorQueueDepth(h.telemetry, [{} as typeof queue])).toThrow(
      /monitorQueueDepth\.queues\[0\]/,
    );
  });
});
