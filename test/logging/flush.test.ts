import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging/index.js';
import { expectValidLogLine } from '../helpers/log-capture.js';

const setup = { service: 'edge', env: 'test', level: 'info', stackTraces: false } as const;

/** The lines of a log file, parsed; each one must validate against the log schema. */
function fileLines(path: string): Array<Record<string, unknown>> {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  lines.forEach(expectValidLogLine);
  return lines;
}

/** Parses and schema-validates NDJSON chunks as a Writable received them. */
function chunkLines(chunks: string[]): Array<Record<string, unknown>> {
  const lines = chunks
    .join('')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  lines.forEach(expectValidLogLine);
  return lines;
}

describe('flush and crash safety', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stacklight-log-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('waits for an asynchronous sonic-boom destination', async () => {
    const path = join(dir, 'async.log');
    const fd = openSync(path, 'w');
    const { logger, flush } = createLogger({
      ...setup,
      destination: pino.destination({ dest: fd, sync: false }),
    });
    for (let i = 0; i < 2000; i++) logger.info({ status: 200, latency_ms: i }, 'line');
    await flush();
    const lines = fileLines(path);
    expect(lines).toHaveLength(2000); // each one schema-validated by fileLines
    closeSync(fd);
  });

  // The default destination buffers up to 4 KiB (sonic-boom `minLength`).
  // 14 lines of ~430 bytes (~6 KiB) start one write and leave the rest below
  // minLength, where sonic-boom's own flush callback stops waiting.
  const buffered = (fd: number) => pino.destination({ dest: fd, sync: false, minLength: 4096 });
  const padded = 'x'.repeat(300);

  it('writes out the lines a buffering sonic-boom (minLength) still holds', async () => {
    const path = join(dir, 'buffered.log');
    const fd = openSync(path, 'w');
    const { logger, flush } = createLogger({ ...setup, destination: buffered(fd) });
    for (let i = 0; i < 14; i++) logger.info({ status: 200, latency_ms: i }, padded);
    await flush();
    expect(fileLines(path).map((l) => l['latency_ms'])).toEqual([...Array(14).keys()]);
    closeSync(fd);
  });

  it('resolves once the earlier lines are written while logging goes on', async () => {
    const path = join(dir, 'busy.log');
    const fd = openSync(path, 'w');
    const { logger, flush } = createLogger({ ...setup, destination: buffered(fd) });
    for (let i = 0; i < 14; i++) logger.info({ status: 200, latency_ms: i }, padded);
    // One more line every event-loop turn: the buffer is rarely empty again.
    let busy = true;
    const more = (): void => {
      if (!busy) return;
      logger.info({ status: 200 }, 'after');
      setImmediate(more);
    };
    more();
    try {
      // flush must still end (the test times out long before 60 s).
      await flush(60_000);
      // Later lines may still be being appended: read whole lines only.
      const text = readFileSync(path, 'utf8');
      const before = text
        .slice(0, text.lastIndexOf('\n') + 1)
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l['msg'] === padded);
      expect(before.map((l) => l['latency_ms'])).toEqual([...Array(14).keys()]);
    } finally {
      busy = false;
      await flush(); // no write in flight when the fd is closed
      closeSync(fd);
    }
  });

  it('writes a fatal line synchronously', () => {
    const path = join(dir, 'fatal.log');
    const fd = openSync(path, 'w');
    const { logger } = createLogger({
      ...setup,
      destination: pino.destination({ dest: fd, sync: false }),
    });
    logger.info('before');
    logger.fatal(new Error('out of memory'), 'crashing');
    // No await: the line must already be in the file. (The earlier `info`
    // line may still be in flight asynchronously, so order is not checked.)
    const fatal = fileLines(path).find((l) => l['level'] === 'fatal');
    expect(fatal).toMatchObject({ msg: 'crashing', error: { message: 'out of memory' } });
    closeSync(fd);
  });

  it('waits for a Node Writable with queued writes', async () => {
    const written: string[] = [];
    const slow = new Writable({
      write(chunk: Buffer, _enc, cb) {
        setTimeout(() => {
          written.push(chunk.toString());
          cb();
        }, 2);
      },
    });
    const { logger, flush } = createLogger({ ...setup, destination: slow });
    for (let i = 0; i < 5; i++) logger.info(`line ${i}`);
    expect(written.length).toBeLessThan(5);
    await flush();
    expect(written).toHaveLength(5);
    expect(chunkLines(written)).toHaveLength(5);
  });

  it('resolves after the timeout when the destination never drains', async () => {
    const received: string[] = [];
    // Takes the first chunk and never calls back, so nothing more is written.
    const stuck = new Writable({
      write(chunk: Buffer) {
        received.push(chunk.toString());
      },
    });
    const { logger, flush } = createLogger({ ...setup, destination: stuck });
    logger.info('a');
    logger.info('b');
    const started = Date.now();
    await flush(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    chunkLines(received);
  });

  it('flushes a transport (worker thread) destination', async () => {
    const path = join(dir, 'transport.log');
    const { logger, flush } = createLogger({
      ...setup,
      transport: { target: 'pino/file', options: { destination: path, mkdir: true } },
    });
    logger.info({ route: '/t' }, 'through a worker');
    await flush();
    await vi.waitFor(() => expect(fileLines(path)).toHaveLength(1), { timeout: 5000 });
    const [line] = fileLines(path);
    expect(line).toMatchObject({ route: '/t', msg: 'through a worker' });
  });
});
