import { describe, expect, it } from 'vitest';
import { runWithContext } from '../../src/context.js';
import { oneLine, testLogger } from './fixtures.js';

describe('child loggers', () => {
  it('write schema bindings once, in every line, with the parent format', () => {
    const t = testLogger();
    const child = t.logger.child({ queue: 'q_import', job: 'import.trades' });
    child.info('one');
    child.warn({ jobId: 'j1' }, 'two');
    const lines = t.capture.lines();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      level: 'warn',
      service: 'edge',
      queue: 'q_import',
      job: 'import.trades',
      jobId: 'j1',
      msg: 'two',
    });
    for (const raw of t.capture.text().trim().split('\n'))
      expect(raw.match(/"queue":/g)).toHaveLength(1);
  });

  it('redact bindings and keep unknown bindings under extra, merged with line extras', () => {
    const t = testLogger();
    const child = t.logger.child({ component: 'db', password: 'pw', userId: 'a@b.io' });
    const line = oneLine(t, () => child.info({ table: 'trades' }, 'query'));
    expect(line).toMatchObject({
      userId: '[EMAIL]',
      extra: { component: 'db', password: '[REDACTED]', table: 'trades' },
    });
    expect(t.violations).toEqual([
      ['unknown_field', 'component'],
      ['unknown_field', 'password'],
      ['unknown_field', 'table'],
    ]);
  });

  it('inherit bindings and extras through grandchildren', () => {
    const t = testLogger();
    const grandchild = t.logger
      .child({ component: 'worker', queue: 'q' })
      .child({ job: 'digest.weekly', shard: 3 });
    expect(oneLine(t, () => grandchild.info('x'))).toMatchObject({
      queue: 'q',
      job: 'digest.weekly',
      extra: { component: 'worker', shard: 3 },
    });
  });

  it('let a binding win over the request context without writing the key twice', () => {
    const t = testLogger();
    const child = t.logger.child({ requestId: 'bound' });
    const line = runWithContext({ requestId: 'ctx', route: '/r' }, () =>
      oneLine(t, () => child.info('x')),
    );
    expect(line).toMatchObject({ requestId: 'bound', route: '/r' });
    expect(t.capture.text().match(/"requestId":/g)).toHaveLength(1);
  });

  it('serialize an error binding and keep a msg binding under extra', () => {
    const t = testLogger();
    const child = t.logger.child({ err: new Error('bound failure'), msg: 'bound msg' });
    expect(oneLine(t, () => child.info('line msg'))).toMatchObject({
      error: { message: 'bound failure' },
      extra: { msg: 'bound msg' },
      msg: 'line msg',
    });
  });

  it('apply the same policy to setBindings', () => {
    const t = testLogger();
    const child = t.logger.child({ queue: 'q' });
    child.setBindings({ jobId: 'j9', token: 'secret-token' });
    expect(oneLine(t, () => child.info('x'))).toMatchObject({
      queue: 'q',
      jobId: 'j9',
      extra: { token: '[REDACTED]' },
    });
  });

  it('keep scrubbing messages when child options bring their own msg serializer, and adapt redact paths', () => {
    const t = testLogger();
    const child = t.logger.child(
      { job: 'j' },
      { serializers: { msg: (m: string) => `${m} (child)` }, redact: ['card.number'] },
    );
    const line = oneLine(t, () =>
      child.info({ card: { number: '4111', brand: 'visa' } }, 'for x@y.io'),
    );
    expect(line).toMatchObject({
      msg: 'for [EMAIL] (child)',
      extra: { card: { number: '[REDACTED]', brand: 'visa' } },
    });
  });

  it('honour child options such as level', () => {
    const t = testLogger({ level: 'info' });
    const verbose = t.logger.child({ job: 'j' }, { level: 'debug' });
    verbose.debug('visible');
    t.logger.debug('hidden');
    expect(t.capture.lines().map((l) => l['msg'])).toEqual(['visible']);
  });
});
