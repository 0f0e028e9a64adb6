/**
 * The string scrubber, rule by rule, with exact outputs: what each rule
 * replaces, where it stops, what it leaves (prose, ids, ports, times), how
 * each replacement is counted (`onRedaction`, once per replaced part), and
 * how a long string is cut. The shared secret table runs the same shapes
 * through every exit; this file pins the rules themselves.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createScrubber, MARKERS, shapeOf, type RedactionKind } from '../../src/logging/scrub.js';
import { createSecretKeyMatcher } from '../../src/logging/secret-keys.js';

function scrubber(maxStringLength = 8192): {
  scrub: (s: string) => string;
  kinds: RedactionKind[];
} {
  const kinds: RedactionKind[] = [];
  const scrub = createScrubber({
    isSecretKey: createSecretKeyMatcher(),
    maxStringLength,
    onRedaction: (kind) => kinds.push(kind),
  });
  return { scrub, kinds };
}

/** `[input, output, kinds counted]` rows, each through a fresh scrubber. */
type Row = [string, string, RedactionKind[]];

function check(rows: Row[]): void {
  for (const [input, output, counted] of rows) {
    const { scrub, kinds } = scrubber();
    expect(scrub(input), input).toBe(output);
    expect(kinds, input).toEqual(counted);
  }
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('markers', () => {
  it('are the documented strings', () => {
    expect(MARKERS).toEqual({
      redacted: '[REDACTED]',
      email: '[EMAIL]',
      jwt: '[JWT]',
      circular: '[Circular]',
      maxDepth: '[MaxDepth]',
      maxNodes: '[MaxNodes]',
      getterThrew: '[GetterThrew]',
      unserializable: '[Unserializable]',
      truncated: '…[TRUNCATED',
    });
    expect(Object.isFrozen(MARKERS)).toBe(true);
  });
});

describe('credentials in a URL', () => {
  it('replaces the user and password, keeping the scheme and host', () => {
    check([
      [
        'postgres://app:hunter2@db:5432/app',
        'postgres://[REDACTED]@db:5432/app',
        ['url_credentials'],
      ],
      ['HTTPS://Admin:Pw@Host/x', 'HTTPS://[REDACTED]@Host/x', ['url_credentials']],
      ['redis://:onlypw@cache', 'redis://[REDACTED]@cache', ['url_credentials']],
      [
        'https://tok3n@api.example.net/',
        'https://[REDACTED]@api.example.net/',
        ['url_credentials'],
      ],
      ['git+ssh://u:p#w/d%40@h', 'git+ssh://[REDACTED]@h', ['url_credentials']],
      [
        'a https://u:1@h and ftp://v:2@g',
        'a https://[REDACTED]@h and ftp://[REDACTED]@g',
        ['url_credentials', 'url_credentials'],
      ],
    ]);
  });

  it('leaves a port and a path with an @ in it to the e-mail rule', () => {
    check([
      ['http://host:8080/users/@me', 'http://host:8080/users/@me', []],
      ['http://host:8080/to/ann@example.com', 'http://host:8080/to/[EMAIL]', ['email']],
      ['http://host:80?q@x', 'http://host:80?q@x', []],
      ['http://host:65535#f@x', 'http://host:65535#f@x', []],
    ]);
  });

  it('needs a scheme: a bare user:pass@host is an e-mail-like text at most', () => {
    check([['user:pw@host', 'user:pw@host', []]]);
  });
});

describe('e-mail addresses', () => {
  it('replaces ASCII, internationalised and punycode addresses', () => {
    check([
      ['to ann.lee+x@mail.example.com.', 'to [EMAIL].', ['email']],
      ['josé@bücher.example', '[EMAIL]', ['email']],
      ['用户@例子.广告', '[EMAIL]', ['email']],
      ['erin@example.xn--p1ai!', '[EMAIL]!', ['email']],
      ['erin@EXAMPLE.XN--P1AI', '[EMAIL]', ['email']],
      ['a@b.co, c@d.io', '[EMAIL], [EMAIL]', ['email', 'email']],
    ]);
  });

  it('replaces percent-encoded addresses in paths and queries', () => {
    check([
      ['/users/erin%40example.com/orders', '/users/[EMAIL]/orders', ['email']],
      ['?u=Erin%40Example.XN--P1AI', '?u=[EMAIL]', ['email']],
      ['mail erin%40mail.example.com', 'mail [EMAIL]', ['email']],
    ]);
  });

  it('keeps what is not an address', () => {
    check([
      ['@mention and npm @scope/pkg', '@mention and npm @scope/pkg', []],
      ['ann@localhost', 'ann@localhost', []],
      ['ann@host.c', 'ann@host.c', []],
      ['50%40 off', '50%40 off', []],
    ]);
  });

  it('bounds the local part at 64 characters', () => {
    const local = 'x'.repeat(70);
    check([[`${local}@example.com`, `${'x'.repeat(6)}[EMAIL]`, ['email']]]);
  });
});

describe('Bearer tokens', () => {
  it('replaces the token, keeping the word as written', () => {
    check([
      ['Bearer abc.def-ghi_jkl~m+n/o==', 'Bearer [REDACTED]', ['bearer']],
      ['sent BEARER   x1 twice', 'sent BEARER   [REDACTED] twice', ['bearer']],
      ['bearer\tab', 'bearer\t[REDACTED]', ['bearer']],
      ['Bearer token1', 'Bearer [REDACTED]', ['bearer']],
    ]);
  });

  it('keeps prose: a listed lowercase word after Bearer', () => {
    const prose = [
      'a', 'an', 'and', 'as', 'auth', 'authentication', 'authorization', 'credential',
      'credentials', 'expected', 'for', 'format', 'header', 'headers', 'in', 'invalid', 'is',
      'missing', 'of', 'on', 'or', 'prefix', 'realm', 'required', 'scheme', 'string', 'the', 'to',
      'token', 'tokens', 'type', 'value', 'was', 'with',
    ]; // prettier-ignore
    check(prose.map((word): Row => [`Bearer ${word}`, `Bearer ${word}`, []]));
    check([
      ['Bearer token=', 'Bearer token=', []],
      ['Bearer scheme==', 'Bearer scheme==', []],
      ['Bearer Token', 'Bearer [REDACTED]', ['bearer']],
      ['Bearer tokenX', 'Bearer [REDACTED]', ['bearer']],
    ]);
  });

  it('does not count a token already replaced', () => {
    check([['Bearer [REDACTED]', 'Bearer [REDACTED]', []]]);
  });

  it('needs the whole word', () => {
    check([['forbearer abcdef', 'forbearer abcdef', []]]);
  });
});

describe('Basic credentials', () => {
  it('replaces base64 of user:password, padded, unpadded or one character too long', () => {
    check([
      [`Basic ${b64('user:password')}`, 'Basic [REDACTED]', ['basic']],
      ['Basic dXNlcjpwYXNzd29yZA', 'Basic [REDACTED]', ['basic']],
      ['basic YTpi done', 'basic [REDACTED] done', ['basic']],
      ['BASIC YTpiYw== ok', 'BASIC [REDACTED] ok', ['basic']],
      ['Basic dXNlcjpwdzQwc2VjcmV0x', 'Basic [REDACTED]', ['basic']],
    ]);
  });

  it('keeps prose and base64 that is not printable user:password text', () => {
    check([
      ['Basic configuration', 'Basic configuration', []],
      [`Basic ${b64('nocolonhere')}`, `Basic ${b64('nocolonhere')}`, []],
      [`Basic ${b64('a:\u0001b')}`, `Basic ${b64('a:\u0001b')}`, []],
      [`Basic ${b64('a:\u007fb')}`, `Basic ${b64('a:\u007fb')}`, []],
      [`Basic ${b64('a: b')}`, 'Basic [REDACTED]', ['basic']],
      ['Basic ////', 'Basic ////', []],
      ['Basic YTpi/x', 'Basic YTpi/x', []],
      ['Basic a', 'Basic a', []],
    ]);
  });
});

describe('JWTs', () => {
  it('replaces eyJ and at least seven base64url characters, with up to two more segments', () => {
    check([
      ['eyJabcdefg', '[JWT]', ['jwt']],
      ['eyJabcdef', 'eyJabcdef', []],
      ['t eyJhbGciOi.eyJzdWIi.c2ln-_x rest', 't [JWT] rest', ['jwt']],
      ['eyJhbGciOi.a.b.c', '[JWT].c', ['jwt']],
    ]);
  });
});

describe('vendor credentials', () => {
  const rows: Array<[string, string]> = [
    // [shortest redacted, one character short: kept]
    ['sk_live_0123456789', 'sk_live_012345678'],
    ['sk_test_0123456789', 'sk_test_012345678'],
    ['rk_live_0123456789', 'rk_live_012345678'],
    ['ghp_01234567890123456789', 'ghp_0123456789012345678'],
    ['gho_01234567890123456789', 'gho_0123456789012345678'],
    ['ghu_01234567890123456789', 'ghu_0123456789012345678'],
    ['ghs_01234567890123456789', 'ghs_0123456789012345678'],
    ['ghr_01234567890123456789', 'ghr_0123456789012345678'],
    ['github_pat_0123456789_123456789', 'github_pat_0123456789_12345678'],
    ['xoxb-0123456789', 'xoxb-012345678'],
    ['xoxp-0123456789', 'xoxp-012345678'],
    ['AKIA0123456789ABCDEF', 'AKIA0123456789ABCDE'],
    ['ASIA0123456789ABCDEF', 'ASIA0123456789ABCDE'],
    ['AIza0123456789012345678901234567890_-ab', 'AIza0123456789012345678901234567890_-a'],
    ['glpat-0123456789_123456789', 'glpat-0123456789_12345678'],
    ['npm_012345678901234567890123456789abcdef', 'npm_012345678901234567890123456789abcde'],
    ['sk-0123456789_123456789', 'sk-0123456789_12345678'],
  ];

  it('replaces each documented shape from its shortest length, and not one character shorter', () => {
    check(rows.map(([secret]): Row => [`k ${secret}.`, 'k [REDACTED].', ['credential']]));
    check(rows.map(([, short]): Row => [`k ${short}.`, `k ${short}.`, []]));
    check([['sk-proj-0123456789_123456789', '[REDACTED]', ['credential']]]);
  });

  it('needs the shape to end: a longer alphanumeric run is not a key id', () => {
    check([
      ['AKIA0123456789ABCDEFG', 'AKIA0123456789ABCDEFG', []],
      [
        'npm_012345678901234567890123456789abcdefX',
        'npm_012345678901234567890123456789abcdefX',
        [],
      ],
      ['xsk_live_0123456789', 'xsk_live_0123456789', []],
      ['ASIAN markets', 'ASIAN markets', []],
    ]);
  });
});

describe('PEM private keys', () => {
  it('replaces the block from BEGIN to END, or to the end of a cut string', () => {
    check([
      [
        'key: -----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY----- done',
        'key: [REDACTED] done',
        ['private_key'],
      ],
      ['x -----BEGIN PRIVATE KEY-----\nMIIcut', 'x [REDACTED]', ['private_key']],
      [
        '-----BEGIN PGP PRIVATE KEY BLOCK-----\nabc\n-----END PGP PRIVATE KEY BLOCK-----!',
        '[REDACTED]!',
        ['private_key'],
      ],
    ]);
  });

  it('keeps public keys and certificates', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIabc\n-----END CERTIFICATE-----';
    check([[cert, cert, []]]);
  });
});

describe('header lines', () => {
  it('replaces the value to the end of the line', () => {
    check([
      [
        'Authorization: Token abc def\nAccept: */*',
        'Authorization: [REDACTED]\nAccept: */*',
        ['header'],
      ],
      ['cookie:a=1; b=2', 'cookie:[REDACTED]', ['header']],
      ['SET-COOKIE :  sid=1\r\nx', 'SET-COOKIE :  [REDACTED]\r\nx', ['header']],
      ['Proxy-Authorization: Basic x', 'Proxy-Authorization: [REDACTED]', ['header']],
    ]);
  });
});

describe('key=value', () => {
  it('replaces the value of a secret key, quoted, spaced or bare', () => {
    check([
      ['password=hunter2 user=ann', 'password=[REDACTED] user=ann', ['key_value']],
      [
        'export AWS_SECRET_ACCESS_KEY=abc/def+g',
        'export AWS_SECRET_ACCESS_KEY=[REDACTED]',
        ['key_value'],
      ],
      ['--password=pw,x', '--password=[REDACTED],x', ['key_value']],
      ['password="pw with space" ok', 'password="[REDACTED]" ok', ['key_value']],
      ["API_KEY='k\\'ey' ok", "API_KEY='[REDACTED]' ok", ['key_value']],
      ['password = pw ok', 'password = [REDACTED] ok', ['key_value']],
      ['password\t=\tpw', 'password\t=\t[REDACTED]', ['key_value']],
      ['token=a#b', 'token=[REDACTED]', ['key_value']],
      ['authorization=Bearer abc', 'authorization=Bearer [REDACTED]', ['bearer']],
      ['authorization=basic abc', 'authorization=basic [REDACTED]', ['key_value']],
      ['PHPSESSID=abc', 'PHPSESSID=[REDACTED]', ['key_value']],
    ]);
  });

  it('keeps other keys and values already replaced', () => {
    check([
      ['user=ann code=1 key=2 sig=3', 'user=ann code=1 key=2 sig=3', []],
      ['password=[REDACTED]', 'password=[REDACTED]', []],
      ['password="[REDACTED]"', 'password="[REDACTED]"', []],
      ['authorization=Bearer [REDACTED]', 'authorization=Bearer [REDACTED]', []],
      ['passwordPolicy=strict', 'passwordPolicy=strict', []],
    ]);
  });

  it('replaces URL parameters with secret names only after ? & # or ;', () => {
    check([
      ['/cb?code=4/0Ab&state=s', '/cb?code=[REDACTED]&state=s', ['key_value']],
      ['/cb#access_token=t1&x=1', '/cb#access_token=[REDACTED]&x=1', ['key_value']],
      [
        '/f?X-Amz-Signature=ab12&X-Amz-Date=1',
        '/f?X-Amz-Signature=[REDACTED]&X-Amz-Date=1',
        ['key_value'],
      ],
      ['/f?x.goog.credential=c', '/f?x.goog.credential=[REDACTED]', ['key_value']],
      ['/f?X-Amz-Credential=c&a=1', '/f?X-Amz-Credential=[REDACTED]&a=1', ['key_value']],
      ['/f?X-Goog-Signature=s', '/f?X-Goog-Signature=[REDACTED]', ['key_value']],
      // secret keys anywhere, so URL parameters too
      ['/f?X-Amz-Security-Token=t', '/f?X-Amz-Security-Token=[REDACTED]', ['key_value']],
      ['/f?signature=s', '/f?signature=[REDACTED]', ['key_value']],
      ['/a;jsessionid=J1', '/a;jsessionid=[REDACTED]', ['key_value']],
      ['/a?sid=1&key=2', '/a?sid=[REDACTED]&key=[REDACTED]', ['key_value', 'key_value']],
      ['/a?page=2&sort=asc', '/a?page=2&sort=asc', []],
      ['/a#section=b', '/a#section=b', []],
    ]);
  });

  it('ends a value at a fragment that starts another parameter', () => {
    check([
      ['/cb?code=abc#state=x', '/cb?code=[REDACTED]#state=x', ['key_value']],
      ['/cb?code=ab#c', '/cb?code=[REDACTED]', ['key_value']],
    ]);
  });
});

describe('"key": value and key: value', () => {
  it('replaces JSON values of secret keys, strings or not', () => {
    check([
      ['{"password":"pw","user":"ann"}', '{"password":"[REDACTED]","user":"ann"}', ['key_value']],
      ['{"pin" : 1234}', '{"pin" : "[REDACTED]"}', ['key_value']],
      ['{"token":"a\\"b"}', '{"token":"[REDACTED]"}', ['key_value']],
      ['{"password":"[REDACTED]"}', '{"password":"[REDACTED]"}', []],
      ['{"user":"ann"}', '{"user":"ann"}', []],
    ]);
  });

  it('replaces inspect, YAML and object-literal values, with or without a space', () => {
    check([
      ["{ password: 'pw', user: 'ann' }", "{ password: '[REDACTED]', user: 'ann' }", ['key_value']],
      ['token: abc', 'token: [REDACTED]', ['key_value']],
      ['password:hunter2', 'password:[REDACTED]', ['key_value']],
      ["{password:'pw',user:'ann'}", "{password:'[REDACTED]',user:'ann'}", ['key_value']],
      ['\'secret\':"s"', '\'secret\':"[REDACTED]"', ['key_value']],
      [inspect({ password: `it's "x"` }), '{ password: `[REDACTED]` }', ['key_value']],
      ["password: '[REDACTED]'", "password: '[REDACTED]'", []],
      ['password: [REDACTED]', 'password: [REDACTED]', []],
    ]);
  });

  it('finds an unspaced secret pair after other colons, behind a quote or a dotted prefix', () => {
    check([
      ['a:b then password:pw', 'a:b then password:[REDACTED]', ['key_value']],
      ['1.password:pw', '1.password:[REDACTED]', ['key_value']],
      ['db.Password:PW', 'db.Password:[REDACTED]', ['key_value']],
      ["{pin:1234,otp:'5678'}", "{pin:[REDACTED],otp:'[REDACTED]'}", ['key_value', 'key_value']],
      ['http://password:pw@host', 'http://[REDACTED]@host', ['url_credentials']],
    ]);
  });

  it('leaves a colon that ends the string or the line, and a key that is not secret', () => {
    check([
      ['the password:', 'the password:', []],
      ['password:\nhunter', 'password:\nhunter', []],
      ['monitor:up', 'monitor:up', []],
      ['12:password', '12:password', []],
    ]);
  });

  it('keeps times, ports, URLs and ordinary keys', () => {
    check([
      ['at 12:30:45 on host:8080', 'at 12:30:45 on host:8080', []],
      ['see https://example.com/x', 'see https://example.com/x', []],
      ['user: ann, role:admin', 'user: ann, role:admin', []],
    ]);
  });
});

describe('each rule runs wherever its mark is, the first character included', () => {
  it('finds the mark at the start of the string, where a pre-check could skip the rule', () => {
    check([
      ['BEARER abc1', 'BEARER [REDACTED]', ['bearer']],
      ['COOKIE: a=1', 'COOKIE: [REDACTED]', ['header']],
      ['AUTHORIZATION: Token t', 'AUTHORIZATION: [REDACTED]', ['header']],
      ['k=1 password=pw', 'k=1 password=[REDACTED]', ['key_value']],
      ['a%40example.com', '[EMAIL]', ['email']],
      ['a://u:p@h', 'a://[REDACTED]@h', ['url_credentials']],
      ['xeyJabcdefg', 'x[JWT]', ['jwt']],
    ]);
  });

  it('reads the whole key of an unspaced pair: underscores, dots, dashes, capitals', () => {
    check([
      ['api_key:abc1', 'api_key:[REDACTED]', ['key_value']],
      ['api.key:abc2', 'api.key:[REDACTED]', ['key_value']],
      ['api-key:abc3', 'api-key:[REDACTED]', ['key_value']],
      ['API_KEY:abc4', 'API_KEY:[REDACTED]', ['key_value']],
    ]);
  });

  it('reads the keys a service declares: digits, a Z, one letter, trigger letters, 64 characters', () => {
    const kinds: RedactionKind[] = [];
    const long = 'q'.repeat(64);
    const scrub = createScrubber({
      isSecretKey: createSecretKeyMatcher(['pin2', 'k9z', 'pin0', 'authz', 'q', 'xg', long]),
      maxStringLength: 100,
      onRedaction: (kind) => kinds.push(kind),
    });
    expect(scrub('pin2:1234')).toBe('pin2:[REDACTED]');
    expect(scrub('k9z:1234')).toBe('k9z:[REDACTED]');
    expect(scrub('x0pin2:1')).toBe('x0pin2:1');
    expect(scrub('pin0:12')).toBe('pin0:[REDACTED]');
    expect(scrub('AUTHZ:abc')).toBe('AUTHZ:[REDACTED]');
    // a one-letter key between slashes, where a `://` test could look
    expect(scrub('/q:/x')).toBe('/q:[REDACTED]');
    // a key and value made only of characters the first pre-check looks for
    expect(scrub('xg=kg')).toBe('xg=[REDACTED]');
    // a key of 64 characters after a dot: the longest the colon rule reads
    expect(scrub(`a.${long}:1`)).toBe(`a.${long}:[REDACTED]`);
    expect(kinds).toEqual(Array.from({ length: 7 }, () => 'key_value'));
  });
});

describe('every casing and spacing the rules allow', () => {
  it('reads scheme words and header names in any case, as HTTP does', () => {
    check([
      ['BeArEr abc123', 'BeArEr [REDACTED]', ['bearer']],
      ['x=1 bEaReR abc123', 'x=1 bEaReR [REDACTED]', ['bearer']],
      [`bAsIc ${b64('user:pw')}`, 'bAsIc [REDACTED]', ['basic']],
      ['CoOkIe: sid=1', 'CoOkIe: [REDACTED]', ['header']],
      ['AuThOrIzAtIoN: Basic abc', 'AuThOrIzAtIoN: [REDACTED]', ['header']],
    ]);
  });

  it('takes blanks between a key and its colon, and between Basic and its credentials', () => {
    check([
      ['password :hunter2', 'password :[REDACTED]', ['key_value']],
      ["'password' :x", "'password' :[REDACTED]", ['key_value']],
      ['token\t:abc', 'token\t:[REDACTED]', ['key_value']],
      [`Basic  ${b64('user:password')}`, 'Basic  [REDACTED]', ['basic']],
      ['password=basic  xyz', 'password=basic  [REDACTED]', ['key_value']],
      ['password=Basic  [REDACTED]', 'password=Basic  [REDACTED]', []],
    ]);
  });

  it('reads JSON keys the colon rule cannot, with any whitespace before the colon', () => {
    check([
      ['{"_token":"x"}', '{"_token":"[REDACTED]"}', ['key_value']],
      ['{"_token"  : "x"}', '{"_token"  : "[REDACTED]"}', ['key_value']],
      ['{"_token"\n: "x"}', '{"_token"\n: "[REDACTED]"}', ['key_value']],
      ['{ token: "a b" }', '{ token: "[REDACTED]" }', ['key_value']],
    ]);
  });

  it('finds an unspaced pair wherever its key starts and whatever its value holds', () => {
    check([
      [
        'login failed for user 42 with password:hunter2',
        'login failed for user 42 with password:[REDACTED]',
        ['key_value'],
      ],
      ['password:a/b', 'password:[REDACTED]', ['key_value']],
      ['password:/path', 'password:[REDACTED]', ['key_value']],
      ['9.pin:1234', '9.pin:[REDACTED]', ['key_value']],
      ['a,pin:1234', 'a,pin:[REDACTED]', ['key_value']],
      ['a;pin:1234', 'a;pin:[REDACTED]', ['key_value']],
      ['{pin:1234}', '{pin:[REDACTED]}', ['key_value']],
      ['user 1,pwd:x', 'user 1,pwd:[REDACTED]', ['key_value']],
    ]);
  });
});

describe('URL credentials next to ports', () => {
  it('takes a port only right after the host', () => {
    check([
      ['https://ann:pw:8080/x@host', 'https://[REDACTED]@host', ['url_credentials']],
      ['http://host:8/users/@me', 'http://host:8/users/@me', []],
    ]);
  });
});

describe('rule order', () => {
  it('takes URL credentials before the e-mail rule and PEM blocks before key: value', () => {
    check([
      ['postgres://ann@example.com:pw@db', 'postgres://[REDACTED]@db', ['url_credentials']],
      [
        'password: -----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
        'password: [REDACTED]',
        ['private_key'],
      ],
    ]);
  });
});

describe('clean strings and the memo', () => {
  it('returns a string unchanged when nothing matched, the first time and from the memo', () => {
    const { scrub } = scrubber();
    for (const s of ['', 'GET /users/:id', '4bf92f3577b34da6a3ce929d0e0e4736', 'a'.repeat(300)]) {
      expect(scrub(s)).toBe(s);
      expect(scrub(s)).toBe(s);
    }
  });

  it('counts a secret on every call, memo or not', () => {
    const { scrub, kinds } = scrubber();
    expect(scrub('GET /a')).toBe('GET /a');
    expect(scrub('token=t1')).toBe('token=[REDACTED]');
    expect(scrub('token=t1')).toBe('token=[REDACTED]');
    expect(kinds).toEqual(['key_value', 'key_value']);
  });

  it('never answers from another string in the same memo slot', () => {
    // The slot is a hash of the length and the first, middle and last characters.
    const key = (s: string) => [s.length, s[0], s[s.length >> 1], s[s.length - 1]];
    const pairs: Array<[clean: string, secret: string, scrubbed: string]> = [
      // kept by the rules (`abc` is no secret key), then a secret in its slot
      ['x abc=1 bcz', 'x pin=1 bcz', 'x pin=[REDACTED] bcz'],
      // kept by the pre-checks (no trigger), then a secret in its slot
      ['xx qrd 1bcz', 'xx pwd=1bcz', 'xx pwd=[REDACTED]'],
    ];
    for (const [clean, secret, scrubbed] of pairs) {
      expect(key(clean)).toEqual(key(secret));
      const { scrub, kinds } = scrubber();
      expect(scrub(clean)).toBe(clean);
      expect(scrub(clean)).toBe(clean);
      expect(scrub(secret)).toBe(scrubbed);
      expect(scrub(clean)).toBe(clean);
      expect(scrub(secret)).toBe(scrubbed);
      expect(kinds).toEqual(['key_value', 'key_value']);
    }
  });

  it('keeps scrubbing when the counter throws', () => {
    const scrub = createScrubber({
      isSecretKey: createSecretKeyMatcher(),
      maxStringLength: 100,
      onRedaction: () => {
        throw new Error('counter down');
      },
    });
    expect(scrub('Bearer abc ann@example.com')).toBe('Bearer [REDACTED] [EMAIL]');
    expect(scrub(`token=${'t'.repeat(200)}`)).toBe(`token=[REDACTED]`);
  });

  it('works without a counter', () => {
    const scrub = createScrubber({
      isSecretKey: createSecretKeyMatcher(),
      maxStringLength: 100,
      onRedaction: undefined,
    });
    expect(scrub('Bearer abc')).toBe('Bearer [REDACTED]');
  });
});

describe('long strings', () => {
  it('cuts at the limit with the original length, counting the cut', () => {
    const { scrub, kinds } = scrubber(10);
    expect(scrub('0123456789')).toBe('0123456789');
    expect(kinds).toEqual([]);
    expect(scrub('0123456789A')).toBe('0123456789…[TRUNCATED 11 chars]');
    expect(kinds).toEqual(['truncated']);
  });

  it('scrubs before cutting, so a secret across the cut is replaced, not left half', () => {
    // Cut first, `id AKIA012` would no longer have the key id's shape and leak its start.
    const { scrub, kinds } = scrubber(10);
    const s = 'id AKIA0123456789ABCDEF tail';
    expect(scrub(s)).toBe('id [REDACT…[TRUNCATED 28 chars]');
    expect(kinds).toEqual(['credential', 'truncated']);
  });

  it('cuts a scrubbed string that is still too long, and not inside a surrogate pair', () => {
    const { scrub, kinds } = scrubber(10);
    expect(scrub('ann@example.com and more text')).toBe('[EMAIL] an…[TRUNCATED 29 chars]');
    expect(kinds).toEqual(['email', 'truncated']);
    expect(scrub('123456789😀xyz')).toBe('123456789…[TRUNCATED 14 chars]');
    expect(scrub('12345678😀xyz')).toBe('12345678😀…[TRUNCATED 13 chars]');
  });

  it('bounds the work: text past the limit and its slack is dropped unscrubbed', () => {
    const { scrub } = scrubber(10);
    const far = `${'x'.repeat(2000)} token=abc`;
    expect(scrub(far)).toBe(`${'x'.repeat(10)}…[TRUNCATED ${far.length} chars]`);
    const inSlack = `${'x'.repeat(1020)}token=abc`;
    expect(scrub(inSlack)).toBe(`${'x'.repeat(10)}…[TRUNCATED ${inSlack.length} chars]`);
  });

  it('marks what was left out even when the replacements made the rest short', () => {
    const { scrub, kinds } = scrubber(40);
    const value = `a password=${'v'.repeat(2000)} tail`;
    expect(scrub(value)).toBe(`a password=[REDACTED]…[TRUNCATED ${value.length} chars]`);
    expect(kinds).toEqual(['key_value', 'truncated']);
    const pem = `k -----BEGIN PRIVATE KEY-----\n${'A'.repeat(2000)}\n-----END PRIVATE KEY----- tail`;
    expect(scrub(pem)).toBe(`k [REDACTED]…[TRUNCATED ${pem.length} chars]`);
  });

  it('never cuts a string within the limit, even when its replacements make it longer', () => {
    const { scrub, kinds } = scrubber(10);
    expect(scrub('pwd=x')).toBe('pwd=[REDACTED]');
    expect(scrub('password=x')).toBe('password=[REDACTED]');
    expect(kinds).toEqual(['key_value', 'key_value']);
  });

  it('keeps a scrubbed string of exactly the limit whole', () => {
    const { scrub, kinds } = scrubber(10);
    expect(scrub('ann@example.com!!!')).toBe('[EMAIL]!!!');
    expect(kinds).toEqual(['email']);
  });

  it('does not split a pair whose high surrogate is the first or the last of its range', () => {
    const { scrub } = scrubber(10);
    expect(scrub('123456789\u{10000}xyz')).toBe('123456789…[TRUNCATED 14 chars]');
    expect(scrub('123456789\u{10FC00}xyz')).toBe('123456789…[TRUNCATED 14 chars]');
  });

  it('cuts without a counter', () => {
    const scrub = createScrubber({
      isSecretKey: createSecretKeyMatcher(),
      maxStringLength: 5,
      onRedaction: undefined,
    });
    expect(scrub('abcdefgh')).toBe('abcde…[TRUNCATED 8 chars]');
  });

  it('skips the rules for a long string without any trigger', () => {
    const { scrub, kinds } = scrubber(10);
    expect(scrub('abcdefghijklmnop')).toBe('abcdefghij…[TRUNCATED 16 chars]');
    expect(kinds).toEqual(['truncated']);
  });
});

describe('shapeOf', () => {
  it('shows the length of each replaced part', () => {
    const { scrub } = scrubber();
    const v = 'password=hunter2 and ann@example.com!';
    expect(shapeOf(v, scrub(v))).toBe('password=…(7 chars) and …(15 chars)!');
    const jwt = 'eyJhbGciOi.eyJzdWIi';
    expect(shapeOf(jwt, scrub(jwt))).toBe('…(19 chars)');
    expect(shapeOf('same', 'same')).toBe('same');
    expect(shapeOf('token=[REDACTED]', 'token=[REDACTED]')).toBe('token=[REDACTED]');
    // a part after a replaced one that also ends the part before it
    const two = 'cc: ann@x.io bob@y.io';
    expect(shapeOf(two, scrub(two))).toBe('cc: …(8 chars) …(8 chars)');
  });

  it('returns the scrubbed string when the parts cannot be lined up', () => {
    expect(shapeOf('a [REDACTED] b', 'a [REDACTED] b [REDACTED]')).toBe(
      'a [REDACTED] b [REDACTED]',
    );
    expect(shapeOf('xyz', 'a[REDACTED]')).toBe('a[REDACTED]');
    expect(shapeOf('ab', 'a[REDACTED]b')).toBe('a[REDACTED]b');
    expect(shapeOf('aXbYc', 'a[REDACTED][EMAIL]c')).toBe('a[REDACTED][EMAIL]c');
    expect(shapeOf('aXbc', 'a[REDACTED]c!')).toBe('a[REDACTED]c!');
  });
});
