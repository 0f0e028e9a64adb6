import { describe, expect, it } from 'vitest';
import { oneLine, testLogger } from './fixtures.js';

describe('run-time schema policy', () => {
  it('moves an unknown field under extra and reports unknown_field', () => {
    const t = testLogger();
    const line = oneLine(t, (l) => l.info({ component: 'db', status: 200 }, 'ok'));
    expect(line).toMatchObject({ status: 200, extra: { component: 'db' }, msg: 'ok' });
    expect(line).not.toHaveProperty('component');
    expect(t.violations).toEqual([['unknown_field', 'component']]);
  });

  it('moves a wrongly typed field under extra as is, and reports wrong_type', () => {
    const t = testLogger();
    const line = oneLine(t, (l) =>
      l.info({ status: '200', latency_ms: Number.NaN, attempt: 1.5, route: 7 }),
    );
    expect(line['extra']).toEqual({ status: '200', latency_ms: null, attempt: 1.5, route: 7 });
    expect(t.violations).toEqual([
      ['wrong_type', 'status'],
      ['wrong_type', 'latency_ms'],
      ['wrong_type', 'attempt'],
      ['wrong_type', 'route'],
    ]);
  });

  it('rejects out-of-range values and malformed trace ids', () => {
    const t = testLogger();
    const line = oneLine(t, (l) =>
      l.info({ status: 42, latency_ms: -1, traceId: 'not-hex', spanId: 'B7AD6B7169203331' }),
    );
    expect(line['extra']).toEqual({
      status: 42,
      latency_ms: -1,
      traceId: 'not-hex',
      spanId: 'B7AD6B7169203331',
    });
    expect(t.violations.map(([k]) => k)).toEqual([
      'wrong_type',
      'wrong_type',
      'wrong_type',
      'wrong_type',
    ]);
  });

  it('moves fields the logger owns under extra and reports reserved_field', () => {
    const t = testLogger();
    const line = oneLine(t, (l) =>
      l.info({ level: 'debug', ts: 1, service: 'other', env: 'x', region: 'y' }),
    );
    expect(line).toMatchObject({
      level: 'info',
      service: 'edge',
      env: 'test',
      region: 'eu-west-1',
    });
    expect(line['extra']).toEqual({
      level: 'debug',
      ts: 1,
      service: 'other',
      env: 'x',
      region: 'y',
    });
    expect(t.violations.every(([k]) => k === 'reserved_field')).toBe(true);
  });

  it('counts both kinds in one line', () => {
    const t = testLogger();
    oneLine(t, (l) => l.info({ foo: 1, status: 'x' }));
    expect(t.violations).toEqual([
      ['unknown_field', 'foo'],
      ['wrong_type', 'status'],
    ]);
  });

  it('merges the caller extra with moved fields, and nests a non-object extra', () => {
    const t = testLogger();
    expect(oneLine(t, (l) => l.info({ extra: { a: 1 }, b: 2 }))['extra']).toEqual({ a: 1, b: 2 });
    expect(oneLine(t, (l) => l.info({ extra: 'text' }))['extra']).toEqual({ extra: 'text' });
  });

  it('writes err as error, and keeps both when err and error are given', () => {
    const t = testLogger();
    const line = oneLine(t, (l) =>
      l.error({ error: new Error('first'), err: new Error('second') }),
    );
    expect(line['error']).toMatchObject({ message: 'first' });
    expect(line['extra']).toMatchObject({ err: { message: 'second' } });
  });

  it('never throws and never drops the line when the hook throws', () => {
    const t = testLogger({
      onSchemaViolation: () => {
        throw new Error('metric down');
      },
    });
    expect(oneLine(t, (l) => l.info({ foo: 1 }, 'still here'))).toMatchObject({
      msg: 'still here',
      extra: { foo: 1 },
    });
  });

  it('does not mutate the caller object', () => {
    const t = testLogger();
    const fields = Object.freeze({
      foo: Object.freeze({ password: 'p' }),
      status: '200',
      route: 'a@b.io',
    });
    oneLine(t, (l) => l.info(fields));
    expect(fields).toEqual({ foo: { password: 'p' }, status: '200', route: 'a@b.io' });
  });

  it('keeps non-string messages as strings', () => {
    const t = testLogger();
    expect(oneLine(t, (l) => l.info({}, 42 as unknown as string))['msg']).toBe('42');
  });
});
