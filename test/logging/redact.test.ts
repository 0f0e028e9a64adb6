import { describe, expect, it } from 'vitest';
import { createRedactor, MARKERS } from '../../src/logging/index.js';
import { shapeOf } from '../../src/logging/scrub.js';

const r = createRedactor();

describe('createRedactor().isSecretKey', () => {
  it.each([
    'authorization',
    'Authorization',
    'AUTHORIZATION',
    'proxy-authorization',
    'Proxy-Authorization',
    'cookie',
    'Cookie',
    'set-cookie',
    'Set-Cookie',
    'password',
    'PASSWORD',
    'passwd',
    'secret',
    'token',
    'access_token',
    'refresh_token',
    'id_token',
    'accessToken',
    'apiKey',
    'api_key',
    'API-KEY',
    'x-api-key',
    'X-Api-Key',
    'clientSecret',
    'client_secret',
    'privateKey',
    'private_key',
    'session',
    'sessionId',
    'session_id',
    'jwt',
    'credentials',
    'dbPassword',
    'githubToken',
    'stripe_secret',
    'sessionCookie',
    'tokenEnc',
    'apiKeyEnc',
    'dek2Enc',
    'DEKEnc',
    'token_enc',
    'TOKEN_ENC',
    'token-enc',
    'enc',
    'ENC',
    'Enc',
    // every other documented default key, as services spell it
    'cookies',
    'pwd',
    'pass',
    'passphrase',
    'password_hash',
    'session_token',
    'authToken',
    'X-Auth-Token',
    'csrf_token',
    'X-CSRF-Token',
    'xsrf-token',
    'X-XSRF-TOKEN',
    'apiToken',
    'private_key_pem',
    'secret_key',
    'AWS_SECRET_ACCESS_KEY',
    'pin',
    'PIN',
    'otp',
    'totp',
    'signature',
    'csrf',
    'xsrf',
    'X-CSRF',
    'X-XSRF',
    'credential',
    'auth',
    'connectionString',
    'connection_string',
    'cvv',
    'CVV',
    'JSESSIONID',
    'PHPSESSID',
    'sessid',
    'connect.sid',
  ])('treats %s as secret', (key) => {
    expect(r.isSecretKey(key)).toBe(true);
  });

  it.each([
    'reference',
    'Reference',
    'sequence',
    'licence',
    'frequency',
    'encoding',
    'encrypted',
    'isEncrypted',
    'tokenCount',
    'tokens',
    'maxTokens',
    'passwordPolicy',
    'secretName',
    'tokenenc',
    'userId',
    'route',
    'requestId',
    'status',
    'method',
    'authority',
    'author',
    'sessions_total',
    'keyId',
    'host',
  ])('keeps %s', (key) => {
    expect(r.isSecretKey(key)).toBe(false);
  });

  it('adds keys from the keys option after normalising them', () => {
    const custom = createRedactor({ keys: ['National_ID', 'card-number'] });
    expect(custom.isSecretKey('nationalId')).toBe(true);
    expect(custom.isSecretKey('CARD_NUMBER')).toBe(true);
    expect(r.isSecretKey('nationalId')).toBe(false);
  });
});

describe('createRedactor().redactString', () => {
  it.each([
    ['mail alice@example.com now', 'mail [EMAIL] now'],
    ['a.b+tag@sub.example.co.uk', '[EMAIL]'],
    ['https://user:pass@host.io/x', 'https://[REDACTED]@host.io/x'],
    ['redis://:pw@cache:6379', 'redis://[REDACTED]@cache:6379'],
    ['Authorization: Bearer abcdefgh12345', 'Authorization: [REDACTED]'],
    ['use Bearer abcdefgh12345 please', 'use Bearer [REDACTED] please'],
    ['use bearer abcdefgh12345', 'use bearer [REDACTED]'],
    [`Basic ${Buffer.from('u:p-secret').toString('base64')}`, 'Basic [REDACTED]'],
    ['x eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln y', 'x [JWT] y'],
    ['Cookie: a=1; b=2\nnext line', 'Cookie: [REDACTED]\nnext line'],
    ['/cb?token=abc123&page=2', '/cb?token=[REDACTED]&page=2'],
    ['{"password":"pw","user":"u"}', '{"password":"[REDACTED]","user":"u"}'],
    ['{"apiKey": 12345, "n": 1}', '{"apiKey": "[REDACTED]", "n": 1}'],
    ['Basic dXNlcjpwYXNzd29yZA', 'Basic [REDACTED]'],
    ['Authorization=Basic YTpi', 'Authorization=Basic [REDACTED]'],
    ['use Bearer ab1 now', 'use Bearer [REDACTED] now'],
    ['authorization=Bearer abcdef123', 'authorization=Bearer [REDACTED]'],
    ['/cb?code=xyz&page=2#id_token=t1', '/cb?code=[REDACTED]&page=2#id_token=[REDACTED]'],
    ["{ password: 'pw', user: 'u' }", "{ password: '[REDACTED]', user: 'u' }"],
    ['/u/erin%40example.com', '/u/[EMAIL]'],
    ['https://a:p%23/x@h/p', 'https://[REDACTED]@h/p'],
  ])('scrubs %j', (input, expected) => {
    expect(r.redactString(input)).toBe(expected);
  });

  it.each([
    'Basic configuration is described below',
    'the bearer of bad news',
    'missing Bearer token',
    'GET /users/:id 200 12ms',
    'at 10:30:00 user=bob page=2',
    'see the reference manual @ chapter 4',
    'email me at support (at) example (dot) com',
    'ratio a/b = 3',
    'exit code=137',
    'https://host:8443/users/x',
    'Bearer realm="api"',
  ])('keeps %j unchanged', (input) => {
    expect(r.redactString(input)).toBe(input);
  });

  it('cuts long strings at maxStringLength with a marker naming the original length', () => {
    const short = createRedactor({ maxStringLength: 16 });
    expect(short.redactString('a'.repeat(40))).toBe(
      `${'a'.repeat(16)}${MARKERS.truncated} 40 chars]`,
    );
    expect(short.redactString('a'.repeat(16))).toBe('a'.repeat(16));
  });

  it('does not split a surrogate pair at the cut', () => {
    const short = createRedactor({ maxStringLength: 4 });
    expect(short.redactString('abc😀def')).toBe(`abc${MARKERS.truncated} 8 chars]`);
  });

  it('scrubs a secret that straddles the cut instead of leaking half of it', () => {
    const short = createRedactor({ maxStringLength: 20 });
    const out = short.redactString(`${'x'.repeat(10)} alice@example.com ${'y'.repeat(50)}`);
    expect(out).not.toContain('alice');
    expect(out.startsWith(`${'x'.repeat(10)} [EMAIL]`)).toBe(true);
  });
});

describe('createRedactor().redactValue', () => {
  it('returns the same object when nothing needs changing (copy-on-write)', () => {
    const value = {
      route: '/a',
      n: 1,
      nested: { list: [1, 'two', { ok: true }], when: new Date(0) },
    };
    expect(r.redactValue(value)).toBe(value);
  });

  it('copies only the changed branch and never mutates the input', () => {
    const untouched = { a: 1 };
    const value = Object.freeze({
      keep: untouched,
      hdr: Object.freeze({ authorization: 'x', host: 'h' }),
    });
    const out = r.redactValue(value) as Record<string, Record<string, unknown>>;
    expect(out).not.toBe(value);
    expect(out['keep']).toBe(untouched);
    expect(out['hdr']).toEqual({ authorization: MARKERS.redacted, host: 'h' });
    expect(value.hdr.authorization).toBe('x');
  });

  it('marks cycles but not shared references', () => {
    const shared = { v: 1 };
    const cyclic: Record<string, unknown> = { shared, again: shared };
    cyclic['self'] = cyclic;
    expect(r.redactValue(cyclic)).toEqual({
      shared: { v: 1 },
      again: { v: 1 },
      self: MARKERS.circular,
    });
  });

  it('converts values JSON would lose or choke on', () => {
    const out = r.redactValue({
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, 'b'],
      ]),
      set: new Set([1, 2]),
      big: 10n,
      sym: Symbol('s'),
      buf: Buffer.alloc(3),
      ab: new ArrayBuffer(5),
      f32: new Float32Array(2),
      err: Object.assign(new TypeError('bad'), { code: 42 }),
    });
    expect(out).toEqual({
      map: { a: 1, '2': 'b' },
      set: [1, 2],
      big: '10',
      sym: 'Symbol(s)',
      buf: '[Buffer 3 bytes]',
      ab: '[ArrayBuffer 5 bytes]',
      f32: '[Float32Array 8 bytes]',
      err: { type: 'TypeError', message: 'bad', code: '42' },
    });
  });

  it('cuts nesting at maxDepth', () => {
    const shallow = createRedactor({ maxDepth: 2 });
    expect(shallow.redactValue({ a: { b: { c: 1 } }, x: [[1]] })).toEqual({
      a: { b: MARKERS.maxDepth },
      x: [MARKERS.maxDepth],
    });
  });

  it('visits at most maxNodes values', () => {
    const small = createRedactor({ maxNodes: 5 });
    expect(small.redactValue({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })).toEqual({
      a: 1,
      b: 2,
      c: 3,
      d: 4,
      [MARKERS.maxNodes]: 2,
    });
    expect(small.redactValue([1, 2, 3, 4, 5, 6, 7])).toEqual([
      1,
      2,
      3,
      4,
      `${MARKERS.maxNodes} 3 more`,
    ]);
  });

  it('survives revoked proxies and throwing toJSON', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(
      r.redactValue({
        p: proxy,
        t: {
          toJSON: () => {
            throw new Error('no');
          },
        },
      }),
    ).toEqual({
      p: MARKERS.unserializable,
      t: MARKERS.unserializable,
    });
  });

  it('reports each redaction to onRedaction and ignores a throwing hook', () => {
    const kinds: string[] = [];
    const counting = createRedactor({ onRedaction: (k) => kinds.push(k) });
    counting.redactValue({ password: 'x', m: 'a@b.io and Bearer abcdefgh123' });
    expect(kinds.sort()).toEqual(['bearer', 'email', 'key']);
    const throwing = createRedactor({
      onRedaction: () => {
        throw new Error('hook');
      },
    });
    expect(throwing.redactValue({ password: 'x' })).toEqual({ password: MARKERS.redacted });
  });
});

describe('shapeOf', () => {
  it('shows the length of each replaced part and keeps the rest', () => {
    const token = 'a'.repeat(41);
    const value = `authorization=Bearer ${token}`;
    expect(shapeOf(value, r.redactString(value))).toBe('authorization=Bearer …(41 chars)');
    expect(shapeOf('x=1', 'x=1')).toBe('x=1');
    const mail = 'to bob@example.com and amy@example.org!';
    expect(shapeOf(mail, r.redactString(mail))).toBe('to …(15 chars) and …(15 chars)!');
  });
});
