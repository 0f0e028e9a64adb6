import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { init, isStacklightError, type Telemetry } from '../../src/index.js';
import { createLogCapture, type LogLine } from '../helpers/log-capture.js';
import { startFaultyCollector } from '../helpers/faulty-collector.js';

const handles: Telemetry[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.shutdown();
});

function start(service: string, extra: Parameters<typeof init>[0] = {}) {
  const logs = createLogCapture();
  const t = init({
    service,
    logging: { destination: logs.stream },
    metrics: { defaultMetrics: false },
    tracing: { exporter: 'none' },
    ...extra,
  });
  handles.push(t);
  return { t, lines: (): LogLine[] => logs.lines() };
}

describe('the Telemetry lifecycle', () => {
  it('returns the same promise from every shutdown() call', () => {
    const { t } = start('a');
    const first = t.shutdown();
    expect(t.shutdown()).toBe(first);
    expect(t[Symbol.asyncDispose]()).toBe(first);
    return first;
  });

  it("does not let a stale handle end another instance's life", async () => {
    const { t: a } = start('a');
    await a.shutdown();
    const { t: b } = start('b');
    await a.shutdown(); // stale: must not release b's registration
    let error: unknown;
    try {
      start('c');
    } catch (err) {
      error = err;
    }
    expect(isStacklightError(error) && error.code).toBe('STACKLIGHT_STATE');
    expect((error as Error).message).toContain('service "b"');
    await b.shutdown();
  });

  it('refuses init() while a shutdown runs, saying to await it', async () => {
    const { t: a } = start('a');
    a.onShutdown('drain', 'slow', () => new Promise((r) => setTimeout(r, 100)));
    const stopping = a.shutdown();
    expect(() => start('b')).toThrow(
      'stacklight: init() was called while the previous instance (service "a") is still shutting down; await its shutdown() before calling init() again',
    );
    await stopping;
    start('b'); // allowed once it finished
  });

  it('keeps a handle inert after shutdown, counts every late call and warns once', async () => {
    const { t, lines } = start('a');
    await t.shutdown();
    let ran = false;
    const remove = t.onShutdown('close', 'late', () => {
      ran = true;
    });
    remove();
    expect(t.captureException(new Error('late'))).toBeUndefined();
    t.onShutdown('close', 'later', () => undefined);
    await t.shutdown();
    expect(ran).toBe(false);
    const warnings = lines().filter(
      (l) => (l.extra as { stacklight?: string } | undefined)?.stacklight === 'after_shutdown',
    );
    expect(warnings.map((l) => l.msg)).toEqual([
      'stacklight: onShutdown() was called on the Telemetry handle of service "a" after its shutdown(); it does nothing. Use the handle of the current init()',
    ]);
    // onShutdown('late'), captureException, onShutdown('later').
    expect(t.selfMetrics.internalErrorsTotal.read({ component: 'after_shutdown' })).toBe(3);
  });

  it('runs the close phase even when a flush hook holds its whole share', async () => {
    const { t, lines } = start('a', { shutdown: { timeoutMs: 800 } });
    const ran: string[] = [];
    t.onShutdown('flush', 'stuck', () => new Promise(() => undefined));
    t.onShutdown('close', 'server', () => void ran.push('close'));
    await t.shutdown();
    expect(ran).toEqual(['close']);
    expect(lines().some((l) => String(l.msg).includes('shutdown step "stuck" failed'))).toBe(true);
  });

  it('destroys the sockets of an export in flight when the flush share ends', async () => {
    const collector = await startFaultyCollector({ mode: 'hang' });
    try {
      const { t } = start('a', {
        tracing: { endpoint: collector.url, scheduledDelayMs: 10 },
        shutdown: { timeoutMs: 600 },
      });
      for (let i = 0; i < 10; i++) t.tracer.startSpan(`s${i}`).end();
      await collector.waitForRequests(1);
      expect(collector.openConnections).toBeGreaterThanOrEqual(1);
      await t.shutdown();
      // The close reaches the collector (polled; the bound only stops a hang).
      for (let i = 0; i < 100 && collector.openConnections > 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(collector.openConnections).toBe(0);
      expect(t.selfMetrics.spansDroppedTotal.read({ reason: 'export_failed' })).toBe(10);
    } finally {
      await collector.close();
    }
  });

  it('keeps the heap flat over 1 000 init()/shutdown() cycles', async () => {
    const child = fileURLToPath(new URL('../fixtures/cycles-child.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', child, '1000'],
      { timeout: 150_000 },
    );
    const { growthMb } = JSON.parse(stdout) as { growthMb: number };
    // Before the process metrics were shared, 1 000 cycles grew the heap by ~30 MB.
    expect(growthMb).toBeLessThan(5);
  }, 180_000);
});
