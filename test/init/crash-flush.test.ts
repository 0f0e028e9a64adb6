import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installCrashHandlers } from '../../src/crash-handler.js';
import { createLogCapture } from '../helpers/log-capture.js';
import pino from 'pino';

/** A crash on a stand-in process; resolves with what happened, in order. */
function crash(setup: {
  ready?: () => Promise<unknown>;
  readyTimeoutMs?: number;
  flush: () => Promise<unknown>;
  timeoutMs: number;
}): Promise<string[]> {
  const said: string[] = [];
  const target = new EventEmitter();
  return new Promise((resolve) => {
    installCrashHandlers({
      ...setup,
      logger: pino(createLogCapture().stream),
      capture: () => said.push('captured'),
      flush: () => {
        said.push('flush');
        return setup.flush();
      },
      exit: (code) => {
        said.push(`exit ${code}`);
        resolve(said);
      },
      target: target as unknown as NodeJS.Process,
    });
    target.emit('uncaughtException', new Error('boom'), 'uncaughtException');
  });
}

const after = (ms: number, what: () => void): Promise<void> =>
  new Promise((r) => setTimeout(() => (what(), r()), ms));

describe('the flush after a crash', () => {
  it('waits for a slow start before its own bound begins', async () => {
    const events: string[] = [];
    const said = await crash({
      ready: () => after(300, () => events.push('ready')),
      readyTimeoutMs: 30_000,
      flush: () => after(100, () => events.push('flushed')),
      timeoutMs: 200,
    });
    // Sentry still loading at the crash: the event captured meanwhile is
    // flushed once it is ready, even though that took longer than the
    // flush's own bound.
    expect(said).toEqual(['captured', 'flush', 'exit 1']);
    expect(events).toEqual(['ready', 'flushed']);
  });

  it('ends the process when the start never completes, within its bound', async () => {
    const said = await crash({
      ready: () => new Promise(() => undefined),
      readyTimeoutMs: 50,
      flush: () => Promise.resolve(),
      timeoutMs: 50,
    });
    expect(said).toEqual(['captured', 'flush', 'exit 1']);
  });

  it('ends the process when the flush hangs, after its bound', async () => {
    const said = await crash({ flush: () => new Promise(() => undefined), timeoutMs: 50 });
    expect(said).toEqual(['captured', 'flush', 'exit 1']);
  });
});
