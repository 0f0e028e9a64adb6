/**
 * The redactor on the structures services actually log — command lines,
 * raw header arrays, header lists, Maps, Sets, errors with own fields —
 * with the exact value it returns and the redactions it counts: a secret
 * replaced by the wrong thing, a value redacted twice, a limit off by one or
 * an input array changed in place all show here.
 */
import { describe, expect, it } from 'vitest';
import { createRedactor, type RedactionKind } from '../../src/logging/index.js';

function redactor(options: { maxNodes?: number; maxDepth?: number } = {}) {
  const kinds: RedactionKind[] = [];
  const r = createRedactor({ ...options, onRedaction: (k) => kinds.push(k) });
  return { redact: (v: unknown) => r.redactValue(v), kinds };
}

describe('command lines (argv)', () => {
  it('redacts the value after a secret flag, with one or two dashes', () => {
    const { redact, kinds } = redactor();
    const argv = ['node', 'app.js', '--token', 'argvA1', '-password', 'argvA2', '--pin', '1234'];
    expect(redact(argv)).toStrictEqual([
      'node',
      'app.js',
      '--token',
      '[REDACTED]',
      '-password',
      '[REDACTED]',
      '--pin',
      '[REDACTED]',
    ]);
    expect(kinds).toEqual(['key', 'key', 'key']);
    expect(argv[3]).toBe('argvA1'); // the input is not changed
  });

  it('keeps what follows an ordinary flag, a last flag, null and an already redacted value', () => {
    const { redact, kinds } = redactor();
    expect(redact(['--port', '8080', '--token', null, '-', 'x', '--token'])).toStrictEqual([
      '--port',
      '8080',
      '--token',
      null,
      '-',
      'x',
      '--token',
    ]);
    expect(redact(['--token', '[REDACTED]'])).toStrictEqual(['--token', '[REDACTED]']);
    expect(redact(['--token', undefined, 'a'])).toStrictEqual(['--token', undefined, 'a']);
    expect(kinds).toEqual([]);
  });

  it('takes a flag of up to 64 characters as a name', () => {
    const { redact } = redactor();
    const at64 = `--${'a'.repeat(57)}token`; // 64 characters
    const at65 = `--${'a'.repeat(58)}token`;
    expect(at64).toHaveLength(64);
    expect(redact([at64, 'v64'])).toStrictEqual([at64, '[REDACTED]']);
    expect(redact([at65, 'v65'])).toStrictEqual([at65, 'v65']);
  });
});

describe('flat name/value arrays (rawHeaders, entries)', () => {
  it('redacts the value of a secret name at an even index of an even-length array', () => {
    const { redact, kinds } = redactor();
    expect(
      redact(['Host', 'api.example.io', 'Cookie', 'sid=rawB1', 'X-Api-Key', 'rawB2']),
    ).toStrictEqual(['Host', 'api.example.io', 'Cookie', '[REDACTED]', 'X-Api-Key', '[REDACTED]']);
    expect(kinds).toEqual(['key', 'key']);
  });

  it('does not pair the items of an odd-length array or a name at an odd index', () => {
    const { redact } = redactor();
    expect(redact(['Cookie', 'plain', 'x'])).toStrictEqual(['Cookie', 'plain', 'x']);
    expect(redact(['a', 'Cookie', 'plain', 'b'])).toStrictEqual(['a', 'Cookie', 'plain', 'b']);
  });
});

describe('header lists ({ name, value } and { key, value })', () => {
  it('redacts the value of an entry named like a secret', () => {
    const { redact, kinds } = redactor();
    expect(
      redact([
        { name: 'Authorization', value: 'Token harC1' },
        { key: 'password', value: 'harC2' },
        { name: 'Accept', value: 'application/json' },
        { name: 'token', value: null },
        { name: 'token', value: undefined },
        { name: 'token', value: '[REDACTED]' },
      ]),
    ).toStrictEqual([
      { name: 'Authorization', value: '[REDACTED]' },
      { key: 'password', value: '[REDACTED]' },
      { name: 'Accept', value: 'application/json' },
      { name: 'token', value: null },
      { name: 'token', value: undefined },
      { name: 'token', value: '[REDACTED]' },
    ]);
    expect(kinds).toEqual(['key', 'key']);
  });

  it('applies to records of up to 8 fields, not to wider rows', () => {
    const { redact } = redactor();
    const fields = (n: number) =>
      Object.fromEntries(Array.from({ length: n - 2 }, (_, i) => [`f${i}`, i]));
    const eight = { name: 'token', value: 'harC3', ...fields(8) };
    const nine = { name: 'token', value: 'harC4', ...fields(9) };
    expect(redact(eight)).toStrictEqual({ ...eight, value: '[REDACTED]' });
    expect(redact(nine)).toStrictEqual(nine);
  });

  it('survives a name getter that throws', () => {
    const { redact } = redactor();
    const entry = {
      get name(): string {
        throw new Error('boom');
      },
      value: 'v',
    };
    expect(redact(entry)).toStrictEqual({ name: '[GetterThrew]', value: 'v' });
  });
});

describe('objects', () => {
  it('keeps null and undefined under secret keys, and counts a value once', () => {
    const { redact, kinds } = redactor();
    expect(
      redact({ password: null, token: undefined, secret: '[REDACTED]', pin: 1, n: null }),
    ).toStrictEqual({
      password: null,
      token: undefined,
      secret: '[REDACTED]',
      pin: '[REDACTED]',
      n: null,
    });
    expect(kinds).toEqual(['key']);
  });

  it('scrubs keys that are e-mail addresses and marks throwing getters', () => {
    const { redact } = redactor();
    const obj = {
      'bob@example.com': 1,
      get bad(): number {
        throw new Error('getter');
      },
    };
    expect(redact(obj)).toStrictEqual({ '[EMAIL]': 1, bad: '[GetterThrew]' });
  });

  it('marks a getter that throws only when read again for the copy', () => {
    const { redact } = redactor();
    let reads = 0;
    const obj = {
      get flaky(): string {
        reads += 1;
        if (reads > 1) throw new Error('second read');
        return 'ok';
      },
      password: 'objD1',
    };
    expect(redact(obj)).toStrictEqual({ flaky: '[GetterThrew]', password: '[REDACTED]' });
  });

  it('counts cycles, depth and node cuts by kind', () => {
    const { redact, kinds } = redactor({ maxDepth: 2 });
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expect(redact(cyclic)).toStrictEqual({ a: 1, self: '[Circular]' });
    expect(redact({ a: { b: { c: 1 } } })).toStrictEqual({ a: { b: '[MaxDepth]' } });
    expect(kinds).toEqual(['circular', 'max_depth']);
  });
});

describe('the node budget', () => {
  it('counts a redacted array item or field as one node', () => {
    // root, '--token', its value, 'a': four nodes; the fifth item is cut.
    expect(redactor({ maxNodes: 4 }).redact(['--token', 'x', 'a', 'b'])).toStrictEqual([
      '--token',
      '[REDACTED]',
      'a',
      '[MaxNodes] 1 more',
    ]);
    const objects = redactor({ maxNodes: 3 });
    expect(objects.redact({ password: 'x', a: 1, b: 2 })).toStrictEqual({
      password: '[REDACTED]',
      a: 1,
      '[MaxNodes]': 1,
    });
    expect(objects.kinds).toEqual(['key', 'max_nodes']);
    // root, name, the redacted value: three nodes; `a` is cut.
    expect(redactor({ maxNodes: 3 }).redact({ name: 'token', value: 'x', a: 1 })).toStrictEqual({
      name: 'token',
      value: '[REDACTED]',
      '[MaxNodes]': 1,
    });
  });

  it('cuts an array without changing it, whether or not an item changed before the cut', () => {
    const plain = ['a', 'b', 'c', 'd'];
    expect(redactor({ maxNodes: 3 }).redact(plain)).toStrictEqual(['a', 'b', '[MaxNodes] 2 more']);
    expect(plain).toStrictEqual(['a', 'b', 'c', 'd']);
  });

  it('cuts an array without changing it', () => {
    const { redact, kinds } = redactor({ maxNodes: 3 });
    const input = ['password=arrE1', 'b', 'c', 'd'];
    expect(redact(input)).toStrictEqual(['password=[REDACTED]', 'b', '[MaxNodes] 2 more']);
    expect(input).toStrictEqual(['password=arrE1', 'b', 'c', 'd']);
    expect(kinds).toContain('max_nodes');
  });

  it('cuts a Map past the budget', () => {
    const { redact, kinds } = redactor({ maxNodes: 2 });
    const map = new Map<string, unknown>([
      ['password', 'mapF1'],
      ['a', 1],
      ['b', 2],
    ]);
    expect(redact(map)).toStrictEqual({ password: '[REDACTED]', '[MaxNodes]': true });
    expect(kinds).toEqual(['key', 'max_nodes']);
  });
});

describe('Maps and Sets', () => {
  it('turns a Map into an object with secret keys redacted and e-mail keys scrubbed', () => {
    const { redact } = redactor();
    const map = new Map<unknown, unknown>([
      ['password', 'mapG1'],
      ['ab', 'x'],
      ['carol@example.com', 'y'],
      [7, null],
    ]);
    expect(redact(map)).toStrictEqual({ password: '[REDACTED]', ab: 'x', '[EMAIL]': 'y', 7: null });
  });

  it('turns a Set into an array and scrubs its strings', () => {
    const { redact } = redactor();
    expect(redact(new Set(['a', 'password=setH1']))).toStrictEqual(['a', 'password=[REDACTED]']);
  });
});

describe('errors inside values', () => {
  it('keeps type, message, code, cause and own fields, each once, and never the stack', () => {
    const { redact } = redactor();
    const cause = new Error('inner for dave@example.com');
    const err = Object.assign(new Error('outer'), {
      code: 'E_OUTER',
      status: 500,
      password: 'errI1',
      detail: 'for erin@example.com',
      'frank@example.com': 'x',
      cause,
    });
    expect(redact({ err })).toStrictEqual({
      err: {
        type: 'Error',
        message: 'outer',
        code: 'E_OUTER',
        cause: { type: 'Error', message: 'inner for [EMAIL]' },
        status: 500,
        password: '[REDACTED]',
        detail: 'for [EMAIL]',
        '[EMAIL]': 'x',
      },
    });
  });

  it('does not copy enumerable name, message, stack or cause properties a second time', () => {
    const { redact } = redactor();
    // An error revived from JSON or built by a library can have every field enumerable.
    const err = new Error('');
    for (const [key, value] of Object.entries({
      name: 'LoginError',
      message: 'no user gina@example.com',
      stack: 'LoginError: at /srv/app.js:1',
      cause: 'lookup failed',
    })) {
      Object.defineProperty(err, key, { value, enumerable: true, configurable: true });
    }
    Object.assign(err, { ab: 1 });
    expect(Object.keys(err).sort()).toEqual(['ab', 'cause', 'message', 'name', 'stack']);
    expect(redact(err)).toStrictEqual({
      type: 'LoginError',
      message: 'no user [EMAIL]',
      cause: 'lookup failed',
      ab: 1,
    });
  });

  it('writes a numeric code as a string and leaves out a code of another type', () => {
    const { redact } = redactor();
    expect(redact(Object.assign(new Error('a'), { code: 404 }))).toStrictEqual({
      type: 'Error',
      message: 'a',
      code: '404',
    });
    expect(redact(Object.assign(new Error('b'), { code: { x: 1 } }))).toStrictEqual({
      type: 'Error',
      message: 'b',
    });
  });

  it('counts a cause as one level deeper', () => {
    const { redact } = redactor({ maxDepth: 2 });
    const err = new Error('top', { cause: new Error('mid', { cause: new Error('low') }) });
    expect(redact(err)).toStrictEqual({
      type: 'Error',
      message: 'top',
      cause: { type: 'Error', message: 'mid', cause: '[MaxDepth]' },
    });
  });

  it('marks an own field whose getter throws', () => {
    const { redact } = redactor();
    const err = new Error('c');
    Object.defineProperty(err, 'broken', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    expect(redact(err)).toStrictEqual({ type: 'Error', message: 'c', broken: '[GetterThrew]' });
  });
});
