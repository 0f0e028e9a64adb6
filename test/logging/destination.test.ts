// The default log destination (BatchedFdWriter) against real file
// descriptors: a file, and a FIFO (a real pipe) that fills up or loses its
// reader.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchedFdWriter, type LogDropReason } from '../../src/logging/destination.js';

let dir: string;
const fds: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stacklight-dest-'));
});
afterEach(() => {
  for (const fd of fds.splice(0)) {
    try {
      closeSync(fd);
    } catch {
      // already closed by the test
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

function open(path: string, flags: number): number {
  const fd = openSync(path, flags);
  fds.push(fd);
  return fd;
}

function fileWriter(opts: Partial<ConstructorParameters<typeof BatchedFdWriter>[0]> = {}) {
  const path = join(dir, 'out.log');
  const fd = open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  const drops: Array<[LogDropReason, number]> = [];
  const writer = new BatchedFdWriter({
    fd,
    flushBytes: 1024,
    flushIntervalMs: 50,
    maxBufferedBytes: 1 << 20,
    onDrop: (reason, lines) => drops.push([reason, lines]),
    ...opts,
  });
  return { writer, read: () => readFileSync(path, 'utf8'), drops };
}

const line = (i: number, pad = 40): string => JSON.stringify({ i, msg: 'x'.repeat(pad) }) + '\n';

const flushed = (w: BatchedFdWriter): Promise<Error | null | undefined> =>
  new Promise((resolve) => w.flush(resolve));

/** A FIFO opened read-write and non-blocking: writes fail with EAGAIN once its ~64 KiB are full. */
function fifo(): { fd: number; drain: () => string } {
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  const fd = open(path, constants.O_RDWR | constants.O_NONBLOCK);
  const chunk = Buffer.alloc(65536);
  const drain = (): string => {
    let out = '';
    for (;;) {
      try {
        const n = readSync(fd, chunk, 0, chunk.length, null);
        if (n <= 0) return out;
        out += chunk.toString('utf8', 0, n);
      } catch {
        return out; // EAGAIN: empty
      }
    }
  };
  return { fd, drain };
}

/** The write end of a FIFO whose reader has closed: every write fails with EPIPE. */
function readerGone(): number {
  const path = join(dir, 'fifo-gone');
  execFileSync('mkfifo', [path]);
  const reader = open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const fd = open(path, constants.O_WRONLY | constants.O_NONBLOCK);
  closeSync(reader);
  return fd;
}

describe('BatchedFdWriter', () => {
  it('holds lines below the threshold until the quiet-period timer, then writes them in order', async () => {
    const { writer, read } = fileWriter({ flushIntervalMs: 80 });
    writer.write(line(1));
    writer.write(line(2));
    expect(read()).toBe('');
    await vi.waitFor(() => expect(read()).toBe(line(1) + line(2)), { timeout: 2000 });
    expect(writer.pending).toBe(0);
  });

  it('starts a write as soon as the threshold is reached, without waiting for the timer', async () => {
    const { writer, read } = fileWriter({ flushBytes: 256, flushIntervalMs: 60_000 });
    const lines = Array.from({ length: 10 }, (_, i) => line(i));
    for (const l of lines) writer.write(l);
    await vi.waitFor(() => expect(read().length).toBeGreaterThanOrEqual(256), { timeout: 2000 });
    expect(lines.join('').startsWith(read())).toBe(true);
    await flushed(writer); // nothing left to write to a reused fd number
    expect(read()).toBe(lines.join(''));
  });

  it('flush(cb) calls back once every line written before it has left, never synchronously', async () => {
    const { writer, read } = fileWriter({ flushBytes: 4096, flushIntervalMs: 60_000 });
    const lines = Array.from({ length: 500 }, (_, i) => line(i, 10 + (i % 50)));
    for (const l of lines) writer.write(l);
    let called = false;
    const done = new Promise<unknown>((resolve) =>
      writer.flush((err) => {
        called = true;
        resolve(err);
      }),
    );
    expect(called).toBe(false);
    expect(await done).toBeNull();
    expect(read()).toBe(lines.join(''));
    // Nothing pending: still asynchronous.
    let again = false;
    writer.flush(() => (again = true));
    expect(again).toBe(false);
    await flushed(writer);
    expect(again).toBe(true);
  });

  it('writes non-ASCII text, lone surrogates and lines larger than its buffer byte for byte', async () => {
    const { writer, read } = fileWriter({ flushBytes: 64 });
    const big = JSON.stringify({ msg: 'é€😀'.repeat(50_000) }) + '\n'; // ~450 KB
    const lone = '{"msg":"\ud800"}\n';
    writer.write('{"msg":"grüße 日本"}\n');
    writer.write(big);
    writer.write(lone);
    await flushed(writer);
    expect(read()).toBe('{"msg":"grüße 日本"}\n' + big + Buffer.from(lone).toString());
  });

  it('flushSync() writes everything held before it returns', () => {
    const { writer, read } = fileWriter({ flushBytes: 1 << 16, flushIntervalMs: 60_000 });
    writer.write(line(1));
    writer.write(line(2));
    writer.flushSync();
    expect(read()).toBe(line(1) + line(2));
    expect(writer.pending).toBe(0);
  });

  it('keeps accepting lines while a pipe is full, retries, and delivers all of them in order', async () => {
    const { fd, drain } = fifo();
    const drops: LogDropReason[] = [];
    const writer = new BatchedFdWriter({
      fd,
      flushBytes: 4096,
      flushIntervalMs: 20,
      maxBufferedBytes: 1 << 20,
      onDrop: (reason) => drops.push(reason),
    });
    // ~200 KB: three times what the pipe holds.
    const lines = Array.from({ length: 2000 }, (_, i) => line(i, 60));
    for (const l of lines) writer.write(l);
    let out = '';
    await vi.waitFor(
      () => {
        out += drain();
        expect(out.length).toBe(lines.join('').length);
      },
      { timeout: 10_000, interval: 15 },
    );
    expect(out).toBe(lines.join(''));
    expect(drops).toEqual([]);
  });

  it('drops and counts lines beyond maxBufferedBytes while the pipe is stalled, then recovers', async () => {
    const { fd, drain } = fifo();
    const drops: Array<[LogDropReason, number]> = [];
    const writer = new BatchedFdWriter({
      fd,
      flushBytes: 4096,
      flushIntervalMs: 20,
      maxBufferedBytes: 128 * 1024,
      onDrop: (reason, lines) => drops.push([reason, lines]),
    });
    // Fill the pipe (64 KiB) and the buffer (128 KiB), then some.
    for (let i = 0; i < 6000; i++) {
      writer.write(line(i, 60));
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5)); // let writes hit EAGAIN
    }
    const dropped = drops.reduce((n, [reason, lines]) => {
      expect(reason).toBe('buffer_full');
      return n + lines;
    }, 0);
    expect(dropped).toBeGreaterThan(0);
    const accepted = 6000 - dropped;
    expect(writer.pending).toBeLessThanOrEqual(128 * 1024);
    // The reader comes back: everything accepted arrives, whole lines, in order.
    let out = '';
    await vi.waitFor(
      () => {
        out += drain();
        expect(writer.pending).toBe(0);
      },
      { timeout: 10_000, interval: 15 },
    );
    out += drain();
    const got = out.split('\n').filter((l) => l !== '');
    expect(got).toHaveLength(accepted);
    const ids = got.map((l) => (JSON.parse(l) as { i: number }).i);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Logging works normally again.
    writer.write(line(99_999));
    await flushed(writer);
    expect(drain()).toBe(line(99_999));
  });

  it('survives a reader that went away (EPIPE): counts every lost line, flush reports the failure', async () => {
    const fd = readerGone();
    const drops: Array<[LogDropReason, number]> = [];
    const writer = new BatchedFdWriter({
      fd,
      flushBytes: 256,
      flushIntervalMs: 20,
      maxBufferedBytes: 1 << 20,
      onDrop: (reason, lines) => drops.push([reason, lines]),
    });
    for (let i = 0; i < 30; i++) writer.write(line(i));
    const err = await flushed(writer);
    expect(err).toBeInstanceOf(Error);
    for (let i = 0; i < 5; i++) writer.write(line(i));
    writer.flushSync(); // does not throw
    expect(await flushed(writer)).toBeInstanceOf(Error);
    expect(drops.every(([reason]) => reason === 'write_failed')).toBe(true);
    expect(drops.reduce((n, [, lines]) => n + lines, 0)).toBe(35);
  });

  it('a drop counter that throws does not reach the caller', async () => {
    const fd = readerGone();
    const writer = new BatchedFdWriter({
      fd,
      flushBytes: 16,
      flushIntervalMs: 20,
      maxBufferedBytes: 1 << 20,
      onDrop: () => {
        throw new Error('counter broken');
      },
    });
    writer.write(line(1));
    await flushed(writer);
    expect(() => writer.write(line(2))).not.toThrow();
  });
});
