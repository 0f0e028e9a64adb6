import { describe, expect, it } from 'vitest';
import { createLogger, expandRedactPaths } from '../../src/logging/index.js';
import { isStacklightError } from '../../src/errors.js';
import { oneLine, testLogger, TYPICAL_FIELDS } from './fixtures.js';

describe('createLogger: line format', () => {
  it('writes level as a word, an ISO ts, the fixed fields once, then the fields and msg', () => {
    const t = testLogger({ version: '1.4.2' });
    const before = Date.now();
    t.logger.info({ ...TYPICAL_FIELDS }, 'request completed');
    const raw = t.capture.text();
    expect(raw).toMatch(
      /^\{"level":"info","ts":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","service":"edge","env":"test","region":"eu-west-1","version":"1.4.2",/,
    );
    expect(raw.match(/"service":/g)).toHaveLength(1);
    const [line] = t.capture.lines();
    expect(line).toEqual({
      level: 'info',
      ts: expect.any(String),
      service: 'edge',
      env: 'test',
      region: 'eu-west-1',
      version: '1.4.2',
      ...TYPICAL_FIELDS,
      msg: 'request completed',
    });
    expect(Date.parse(line?.['ts'] as string)).toBeGreaterThanOrEqual(before - 1);
    expect(raw.endsWith('\n')).toBe(true);
  });

  it('writes region "unknown" when none is configured', () => {
    const t = testLogger({ region: undefined });
    expect(oneLine(t, (l) => l.info('x'))['region']).toBe('unknown');
  });

  it('writes every level as its word and honours the threshold', () => {
    const t = testLogger({ level: 'warn' });
    const l = t.logger;
    l.trace('t');
    l.debug('d');
    l.info('i');
    l.warn('w');
    l.error('e');
    l.fatal('f');
    expect(t.capture.lines().map((x) => x['level'])).toEqual(['warn', 'error', 'fatal']);
    const all = testLogger();
    all.logger.trace('t');
    all.logger.debug('d');
    expect(all.capture.lines().map((x) => x['level'])).toEqual(['trace', 'debug']);
  });

  it('writes nothing at level silent', () => {
    const t = testLogger({ level: 'silent' });
    t.logger.fatal('nope');
    expect(t.capture.text()).toBe('');
  });

  it('interpolates printf-style arguments and scrubs the result', () => {
    const t = testLogger();
    expect(oneLine(t, (l) => l.info('%s did %d things for %s', 'job', 3, 'x@y.io'))['msg']).toBe(
      'job did 3 things for [EMAIL]',
    );
  });

  it('takes the message of an Error logged alone, with a stack only when enabled', () => {
    const off = oneLine(testLogger(), (l) => l.error(new Error('disk full')));
    expect(off).toMatchObject({ msg: 'disk full', error: { type: 'Error', message: 'disk full' } });
    expect(off['error']).not.toHaveProperty('stack');
    const on = oneLine(testLogger({ stackTraces: true }), (l) =>
      l.error({ err: new Error('disk full') }, 'write failed'),
    );
    expect(on).toMatchObject({
      msg: 'write failed',
      error: { message: 'disk full', stack: expect.stringMatching(/^Error: disk full\n/) },
    });
  });

  it('censors pino redact paths, known fields as given and other keys under extra', () => {
    const t = testLogger({ redactPaths: ['route', 'card.number', '*.pin'] });
    const line = oneLine(t, (l) =>
      l.info({ route: '/r', card: { number: '4111', brand: 'visa' }, box: { pin: '1234', ok: 1 } }),
    );
    expect(line).toMatchObject({
      route: '[REDACTED]',
      extra: { card: { number: '[REDACTED]', brand: 'visa' }, box: { pin: '[REDACTED]', ok: 1 } },
    });
  });
});

describe('createLogger: redact paths in the line layout', () => {
  const fields = {
    route: '/r',
    'a-b': { c: 'c-secret', d: 1 },
    nickname: 'kimmy',
    box: { nickname: 'boxy', ok: 1 },
    err: Object.assign(new Error('order failed'), { orderRef: 'ord-77', attempt: 2 }),
  };
  const line = (paths: string[]): Record<string, unknown> =>
    oneLine(testLogger({ redactPaths: paths }), (l) => l.info(fields, 'x'));

  it('censors a quoted bracket key under extra', () => {
    expect(line(['["a-b"].c'])).toMatchObject({
      route: '/r',
      extra: { 'a-b': { c: '[REDACTED]', d: 1 }, nickname: 'kimmy' },
    });
  });

  it('censors a schema field named in brackets with any quote', () => {
    for (const path of ['["route"]', "['route']", '[`route`]']) {
      const l = line([path]);
      expect(l['route'], path).toBe('[REDACTED]');
      expect(l['extra'], path).toMatchObject({ nickname: 'kimmy' });
    }
  });

  it('applies a leading wildcard at the top of extra and one level down', () => {
    expect(line(['*.nickname'])).toMatchObject({
      route: '/r',
      extra: { nickname: '[REDACTED]', box: { nickname: '[REDACTED]', ok: 1 } },
    });
  });

  it('keeps a path into the error field as given', () => {
    expect(line(['error.extra.orderRef'])).toMatchObject({
      error: { message: 'order failed', extra: { orderRef: '[REDACTED]', attempt: 2 } },
    });
  });
});

describe('expandRedactPaths', () => {
  it('rewrites paths to the line layout', () => {
    expect(expandRedactPaths(['card.number', 'error.extra.token', '*.pin', '["a-b"].c'])).toEqual([
      'extra.card.number',
      'error.extra.token',
      '*.pin',
      'extra.*.pin',
      'extra["a-b"].c',
    ]);
  });

  it('reads the first segment of malformed paths without taking them for schema fields', () => {
    // pino rejects these later (with a ConfigError naming logging.redactPaths).
    expect(expandRedactPaths(['[route'])).toEqual(['[route']);
    expect(expandRedactPaths(['.route'])).toEqual(['extra..route']);
    expect(expandRedactPaths(['[r"oute"]', '["rou"te]', `["route']`])).toEqual([
      'extra[r"oute"]',
      'extra["rou"te]',
      `extra["route']`,
    ]);
  });
});

describe('createLogger: configuration errors', () => {
  const base = { service: 's', env: 'e', stackTraces: false } as const;

  it('rejects an unknown level, naming the option and what is allowed', () => {
    const call = () => createLogger({ ...base, level: 'verbose' as 'info' });
    expect(call).toThrow(
      'stacklight: logging.level must be one of trace, debug, info, warn, error, fatal, silent, got "verbose"',
    );
    try {
      call();
    } catch (error) {
      expect(isStacklightError(error)).toBe(true);
    }
  });

  it('rejects destination together with transport', () => {
    expect(() =>
      createLogger({
        ...base,
        level: 'info',
        destination: process.stdout,
        transport: { target: 'pino/file' },
      }),
    ).toThrow(/logging\.destination must be unset when logging\.transport is set/);
  });

  it('rejects an invalid redact path', () => {
    expect(() =>
      createLogger({ ...base, level: 'info', destination: process.stdout, redactPaths: ['a..b['] }),
    ).toThrow(/logging\.redactPaths must be valid pino redact paths/);
  });
});
