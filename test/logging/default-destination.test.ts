// The default destination (stdout, written in batches), seen from
// outside: a real child process logs through `init()` with no destination
// set, its stdout is a pipe, and the test reads what comes out of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { STDOUT_FLUSH_BYTES, STDOUT_FLUSH_INTERVAL_MS } from '../../src/logging/logger.js';
import { expectValidLogLine, type LogLine } from '../helpers/log-capture.js';

const CHILD = fileURLToPath(new URL('../fixtures/default-destination-child.ts', import.meta.url));

type Mode =
  'idle' | 'exit' | 'fatal-exit' | 'fatal-kill' | 'shutdown' | 'one-per-turn' | 'reader-gone';

interface Child {
  proc: ChildProcess;
  /** Everything read from the child's stdout so far. */
  stdout(): string;
  /** How many chunks the pipe delivered (each one read of the pipe). */
  chunks(): number;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

afterEach(() => {
  for (const proc of running) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  running.clear();
});

function startChild(mode: Mode, count: number): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, mode, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let stdout = '';
  let chunks = 0;
  let stderr = '';
  proc.stdout!.on('data', (c: Buffer) => {
    stdout += c.toString();
    chunks += 1;
  });
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  // 'close', not 'exit': stdout has been read to its end by then.
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { proc, stdout: () => stdout, chunks: () => chunks, stderr: () => stderr, exited };
}

/** stdout as lines: whole lines only, each one JSON and valid against the log schema. */
function parseLines(stdout: string): LogLine[] {
  expect(stdout === '' || stdout.endsWith('\n'), 'stdout ends inside a line').toBe(true);
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const line = JSON.parse(l) as LogLine;
      expectValidLogLine(line);
      return line;
    });
}

/** The `requestId` of the request lines, in the order they arrived. */
function requestIds(lines: LogLine[]): unknown[] {
  return lines.filter((l) => l['msg'] === 'request completed').map((l) => l['requestId']);
}

/** The ids of the first `n` request lines the child logs, in order. */
const idsUpTo = (n: number): string[] => Array.from({ length: n }, (_, i) => `req-${i}`);

describe('default destination: stdout, written in batches', () => {
  it('writes the line of a service that then goes quiet, without any flush call', async () => {
    const child = startChild('idle', 1);
    // One ~230-byte line stays below the flush threshold; only the timer
    // writes it while the process lives. The bound is generous on purpose.
    await vi.waitFor(() => expect(child.stdout()).toContain('"msg":"request completed"'), {
      timeout: 10_000,
      interval: 20,
    });
    expect(child.proc.exitCode, `child exited: ${child.stderr()}`).toBeNull();
    const lines = parseLines(child.stdout());
    expect(requestIds(lines)).toEqual(['req-0']);
    expect(lines.at(-1)).toMatchObject({ level: 'info', service: 'destination-child' });
  });

  it.each([3, 2000])('writes all %i lines logged right before process.exit()', async (count) => {
    const child = startChild('exit', count);
    const { code } = await child.exited;
    expect(code, child.stderr()).toBe(0);
    expect(requestIds(parseLines(child.stdout()))).toEqual(idsUpTo(count));
  });

  it('writes a fatal line logged right before process.exit(1), and the lines before it', async () => {
    const child = startChild('fatal-exit', 3);
    const { code } = await child.exited;
    expect(code, child.stderr()).toBe(1);
    const lines = parseLines(child.stdout());
    expect(requestIds(lines)).toEqual(idsUpTo(3));
    expect(lines.at(-1)).toMatchObject({
      level: 'fatal',
      msg: 'crashing',
      error: { message: 'out of memory' },
    });
  });

  it('writes a fatal line at once: it survives a SIGKILL right after it', async () => {
    // SIGKILL runs no exit handler, so only the synchronous flush after
    // `fatal` can have written the line (and the buffered ones before it).
    const child = startChild('fatal-kill', 3);
    const { signal } = await child.exited;
    expect(signal, child.stderr()).toBe('SIGKILL');
    const lines = parseLines(child.stdout());
    expect(requestIds(lines)).toEqual(idsUpTo(3));
    expect(lines.at(-1)).toMatchObject({ level: 'fatal', msg: 'crashing' });
  });

  // 3 lines (~700 bytes) stay below the flush threshold; 50 (~11 KiB) put
  // one write in flight and leave the rest below it; 2000 (~460 KiB) span
  // many writes.
  it.each([3, 50, 2000])(
    'shutdown() writes all %i lines, so a kill right after it loses none',
    async (count) => {
      const child = startChild('shutdown', count);
      const { signal } = await child.exited;
      expect(signal, child.stderr()).toBe('SIGKILL');
      expect(requestIds(parseLines(child.stdout()))).toEqual(idsUpTo(count));
    },
  );

  it('carries many lines per write when a service logs one line per event-loop turn', async () => {
    const count = 1000;
    const child = startChild('one-per-turn', count);
    const { code } = await child.exited;
    expect(code, child.stderr()).toBe(0);
    const stdout = child.stdout();
    expect(requestIds(parseLines(stdout))).toEqual(idsUpTo(count));
    // A write leaves when STDOUT_FLUSH_BYTES are pending, when the timer
    // of a quiet period fires, or at shutdown, and a read of the pipe returns
    // whole writes (this process reads it continuously, so it does not fill
    // up). So the chunk count is bounded by the bytes and by how long the
    // child logged, not by the number of lines (one write per line: ~1000).
    const loggedForMs = Number(/logged-for-ms=(\d+)/.exec(child.stderr())?.[1]);
    expect(loggedForMs, child.stderr()).toBeGreaterThan(0);
    const bytes = Buffer.byteLength(stdout);
    const bound =
      Math.floor(bytes / STDOUT_FLUSH_BYTES) +
      Math.ceil(loggedForMs / STDOUT_FLUSH_INTERVAL_MS) +
      3;
    expect(child.chunks()).toBeLessThanOrEqual(bound);
    expect(child.chunks()).toBeLessThan(count / 4);
  });

  it('keeps the service running when the stdout reader is gone, and counts the lost lines', async () => {
    const count = 50;
    const child = startChild('reader-gone', count);
    // The child starts in a few hundred ms; by its first write nobody reads.
    child.proc.stdout!.destroy();
    const { code } = await child.exited;
    expect(code, child.stderr()).toBe(0);
    expect(child.stderr()).toContain(`dropped=${count}`);
  });
});
