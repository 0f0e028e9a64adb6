import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectValidLogLine } from '../helpers/log-capture.js';

const child = fileURLToPath(new URL('../fixtures/signal-child.ts', import.meta.url));

describe('signal handler', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'runs the whole shutdown on %s, flushes logs, then exits by the signal',
    async (signal) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', child], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      await new Promise<void>((resolve, reject) => {
        const t = setInterval(() => {
          if (stdout.includes('"msg":"ready"')) {
            clearInterval(t);
            resolve();
          }
        }, 20);
        proc.once('exit', () => reject(new Error(`child exited early: ${stderr}`)));
      });
      proc.kill(signal);
      const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((r) =>
        proc.once('exit', (c, s) => r([c, s])),
      );
      expect(stderr).toContain('drain-ran');
      expect(sig).toBe(signal);
      expect(code).toBeNull();
      // Everything the child wrote to stdout is its log lines, each one schema-valid.
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      lines.forEach(expectValidLogLine);
      const line = lines[0]!;
      expect(line).toMatchObject({ service: 'signal-child', msg: 'ready' });
    },
  );
});
