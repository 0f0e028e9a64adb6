import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

it(
  'the orders example passes under node:test too (the second runner)',
  { timeout: 90_000 },
  async () => {
    const { code, out } = await new Promise<{ code: number | null; out: string }>(
      (resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            '--test',
            '--test-reporter=tap',
            'examples/testing/orders.node-test.ts',
          ],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.on('error', reject);
        child.on('close', (c) => resolve({ code: c, out }));
      },
    );
    expect(out).toMatch(/^# pass 2$/m);
    expect(out).toMatch(/^# fail 0$/m);
    expect(code).toBe(0);
  },
);
