import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleFixture } from '../helpers/bundle.js';

// Plain JavaScript: see bundle.ts for why not through tsx.
let child = '';
beforeAll(async () => {
  child = await bundleFixture('stalled-stdout-child');
});

/**
 * Runs the child with stdout a pipe nobody reads. Returns how long it took
 * from "ending" to its exit, its stderr and its exit code.
 */
async function runStalled(mode: 'fatal' | 'exit' | 'throw') {
  const proc = spawn(process.execPath, [child, mode], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.pause(); // the reader stalls: the pipe fills and stays full
  let stderr = '';
  let endingAt = 0;
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (endingAt === 0 && stderr.includes('ending')) endingAt = Date.now();
  });
  // Bounds a hang only: before the fix the child blocked as long as the reader stalled.
  const code = await new Promise<number | null | 'hung'>((resolve) => {
    const t = setTimeout(() => resolve('hung'), 30_000);
    proc.once('exit', (c) => {
      clearTimeout(t);
      resolve(c);
    });
  });
  if (code === 'hung') proc.kill('SIGKILL');
  proc.stdout.destroy();
  return { code, took: Date.now() - endingAt, stderr };
}

describe('synchronous log writes into a stalled blocking pipe', () => {
  it('gives up on a fatal line and the exit flush after about a second, counting what was not written', async () => {
    const { code, took, stderr } = await runStalled('fatal');
    expect(stderr).toContain('ending blockingAtStart=true'); // the pipe was handed over blocking
    expect(code).toBe(1);
    const fatalTook = Number(/fatal-took=(\d+)/.exec(stderr)?.[1]);
    // Generous bounds on a loaded machine; without the bound the child blocks
    // until the 30 s guard above.
    expect(fatalTook).toBeLessThan(10_000);
    expect(took).toBeLessThan(15_000);
    const lost = Number(/exiting lost=(\d+)/.exec(stderr)?.[1]);
    expect(lost).toBeGreaterThan(0);
  }, 60_000);

  it.each(['exit', 'throw'] as const)(
    'lets process %s end the process within the bound',
    async (mode) => {
      const { code, took, stderr } = await runStalled(mode);
      expect(code).toBe(mode === 'exit' ? 0 : 1);
      expect(took).toBeLessThan(15_000);
      expect(Number(/exiting lost=(\d+)/.exec(stderr)?.[1])).toBeGreaterThan(0);
    },
    60_000,
  );
});
