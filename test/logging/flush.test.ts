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
