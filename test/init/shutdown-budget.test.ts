import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultyCollector, type FaultyCollector } from '../helpers/faulty-collector.js';

const child = fileURLToPath(new URL('../fixtures/shutdown-child.ts', import.meta.url));
let collector: FaultyCollector | undefined;
afterEach(async () => {
  await collector?.close();
  collector = undefined;
});

describe('shutdown with a collector that accepts and never answers (README wiring)', () => {
  it('runs the close hooks and the process exits within the budget plus one second', async () => {
    collector = await startFaultyCollector({ mode: 'hang' });
    const budget = 1500;
    const proc = spawn(process.execPath, ['--import', 'tsx', child], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COLLECTOR_URL: collector.url, BUDGET_MS: String(budget) },
    });
    let stderr = '';
    let stdout = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    // An export is in flight, held by the collector.
    await collector.waitForRequests(1, 20_000);
    expect(stderr).toContain('ready');
    const sent = Date.now();
    proc.kill('SIGTERM');
    // Bounds a hang: before the fix the child lived 40–60 s after SIGTERM.
    const code = await Promise.race([
      exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000)),
    ]);
    const took = Date.now() - sent;
    if (code === 'hung') proc.kill('SIGKILL');
    expect(code).toBe(0);
    expect(stderr).toContain('close-ran');
    expect(took).toBeLessThan(budget + 1000);
    // The flush gave up when its share ended and said so; the close phase still ran.
    const lines = stdout
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { msg: string });
    expect(lines.some((l) => l.msg.includes('shutdown step "spans" failed'))).toBe(true);
    expect(lines.some((l) => l.msg.includes('"http-server"'))).toBe(false);
  }, 40_000);
});
