import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unhandledRejectionsMode } from '../../src/crash-handler.js';
import { expectValidLogLine } from '../helpers/log-capture.js';
import { sentryEvents, startSentryIngest, type SentryIngest } from '../helpers/sentry-ingest.js';

const child = fileURLToPath(new URL('../fixtures/crash-child.ts', import.meta.url));

let ingest: SentryIngest;
beforeAll(async () => {
  ingest = await startSentryIngest();
});
afterAll(() => ingest.close());

async function run(how: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ingest.url, how], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  return { code, stdout, stderr };
}

describe('crash handling', () => {
  it.each([
    ['throw', 'uncaught exception', 'worker loop died'],
    ['reject', 'unhandled promise rejection', 'async handler failed'],
  ])(
    'on %s: one scrubbed fatal line, the event captured and flushed, exit code 1',
    async (how, msg, text) => {
      const before = sentryEvents(ingest.bodies).length;
      const { code, stdout, stderr } = await run(how);
      expect(code).toBe(1);
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      lines.forEach(expectValidLogLine);
      const fatal = lines.filter((l) => l.level === 'fatal');
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toMatchObject({ msg, service: 'crash-child' });
      expect((fatal[0]!.error as { message: string }).message).toContain(text);
      for (const out of [stdout, stderr]) {
        expect(out).not.toContain('dave@example.com');
        expect(out).not.toContain('crashTokenABCDEF0123456');
      }
      const events = sentryEvents(ingest.bodies).slice(before);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ level: 'fatal', tags: { service: 'crash-child' } });
      expect(events[0]!.exception?.values?.[0]?.value).toContain(text);
      expect(JSON.stringify(events[0])).not.toContain('dave@example.com');
    },
  );

  it("leaves the process to the service's own uncaughtException listener", async () => {
    const { code, stdout, stderr } = await run('handled');
    expect(stderr).toContain('app-handler-ran');
    expect(code).toBe(3);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.level === 'fatal')).toHaveLength(0);
    expect(lines.filter((l) => l.msg === 'uncaught exception')).toHaveLength(1);
  });

  it('reads the --unhandled-rejections mode from the arguments and NODE_OPTIONS', () => {
    expect(unhandledRejectionsMode([], undefined)).toBe('throw');
    expect(unhandledRejectionsMode(['--unhandled-rejections=warn'], undefined)).toBe('warn');
    expect(
      unhandledRejectionsMode([], '--max-old-space-size=100 --unhandled-rejections=none'),
    ).toBe('none');
  });
});
