import { describe, expect, it } from 'vitest';
import { createRedactor, serializeError } from '../../src/logging/index.js';
import { MAX_BODY_CHARS, type SerializedError } from '../../src/logging/serialize-error.js';

const redactor = createRedactor();
const noStack = { redactor, stack: false };
const withStack = { redactor, stack: true };

describe('serializeError', () => {
  it('keeps a request body attached to an error only scrubbed and cut to MAX_BODY_CHARS', () => {
    // body-parser's parse failure carries the raw body in `body`.
    const body = `{"user":"u1","password":"pw-body-1", "note":"${'x'.repeat(600)}", "token":"late-tok"`;
    const err = Object.assign(new SyntaxError('Unexpected end of JSON input'), {
      type: 'entity.parse.failed',
      body,
    });
    const out = serializeError(err, noStack);
    const kept = out.extra?.['body'] as string;
    expect(kept).not.toContain('pw-body-1');
    expect(kept).not.toContain('late-tok');
    expect(kept.startsWith('{"user":"u1","password":"[REDACTED]"')).toBe(true);
    expect(kept.length).toBeLessThanOrEqual(MAX_BODY_CHARS + 40);
    expect(kept).toMatch(/…\[TRUNCATED \d+ chars\]$/);
  });

  it('scrubs the name of an error', () => {
    const err = new Error('x');
    err.name = 'NotFound for kim@example.com';
    expect(serializeError(err, noStack).type).toBe('NotFound for [EMAIL]');
  });

  it('writes type, code, message and no stack when stacks are off', () => {
    const err = Object.assign(new RangeError('out of range'), { code: 'E_RANGE' });
    expect(serializeError(err, noStack)).toEqual({
      type: 'RangeError',
      code: 'E_RANGE',
      message: 'out of range',
    });
  });

  it('writes a scrubbed stack when stacks are on', () => {
    const err = new Error('for amy@example.com');
    const out = serializeError(err, withStack);
    expect(out.stack).toMatch(/^Error: for \[EMAIL\]\n\s+at /);
    expect(out.stack).not.toContain('amy@example.com');
  });

  it('writes numeric codes as strings and moves other codes to extra', () => {
    expect(serializeError(Object.assign(new Error('x'), { code: 503 }), noStack).code).toBe('503');
    const odd = serializeError(Object.assign(new Error('x'), { code: { nested: 1 } }), noStack);
    expect(odd.code).toBeUndefined();
    expect(odd.extra).toEqual({ code: { nested: 1 } });
  });

  it('follows the cause chain and cuts it after 5 levels', () => {
    let err: Error = new Error('level 0');
    for (let i = 1; i <= 8; i++) err = new Error(`level ${i}`, { cause: err });
    const chain: string[] = [];
    for (
      let e: { message: string; cause?: unknown } | undefined = serializeError(err, noStack);
      e;
      e = e.cause as typeof e
    ) {
      chain.push(e.message);
    }
    expect(chain).toEqual([
      'level 8',
      'level 7',
      'level 6',
      'level 5',
      'level 4',
      'level 3',
      '[MaxCauseDepth]',
    ]);
  });

  it('marks a cyclic cause', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(serializeError(a, noStack)).toEqual({
      type: 'Error',
      message: 'a',
      cause: { type: 'Error', message: 'b', cause: { message: '[Circular]' } },
    });
  });

  it('writes at most 10 errors of an AggregateError', () => {
    const errors = Array.from({ length: 13 }, (_, i) => new Error(`e${i}`));
    const out = serializeError(new AggregateError(errors, 'all failed'), noStack);
    expect(out.type).toBe('AggregateError');
    expect(out.errors).toHaveLength(11);
    expect(out.errors?.[10]).toEqual({ message: '[3 more errors]' });
  });

  it('keeps the same error twice in an AggregateError (not a cycle)', () => {
    const e = new Error('same');
    const out = serializeError(new AggregateError([e, e], 'twice'), noStack);
    expect(out.errors?.map((x) => x.message)).toEqual(['same', 'same']);
  });

  it('turns thrown non-errors into a message', () => {
    expect(serializeError('boom', noStack)).toEqual({ message: 'boom' });
    expect(serializeError(42, noStack)).toEqual({ message: '42' });
    expect(serializeError(null, noStack)).toEqual({ message: 'null' });
    expect(serializeError({ code: 'E_X', message: 'plain' }, noStack)).toEqual({
      code: 'E_X',
      message: 'plain',
    });
  });

  it('redacts other own properties into extra', () => {
    const err = Object.assign(new Error('req failed'), {
      statusCode: 401,
      config: { headers: { authorization: 'Bearer zzz', accept: 'json' } },
    });
    expect(serializeError(err, noStack).extra).toEqual({
      statusCode: 401,
      config: { headers: { authorization: '[REDACTED]', accept: 'json' } },
    });
  });

  it('never throws on a hostile error', () => {
    const hostile = new Proxy(new Error('x'), {
      get() {
        throw new Error('trap');
      },
    });
    expect(serializeError(hostile, withStack)).toEqual({ message: '[Unserializable error]' });
  });
  it('types an error with an empty name by its class, or as Error', () => {
    class PaymentError extends Error {}
    const named = new PaymentError('declined');
    named.name = '';
    expect(serializeError(named, noStack)).toEqual({ type: 'PaymentError', message: 'declined' });
    // No constructor to ask (a prototype-less error from another realm's shim).
    const bare = new Error('x');
    bare.name = '';
    Object.defineProperty(bare, 'constructor', { value: undefined });
    expect(serializeError(bare, noStack)).toEqual({ type: 'Error', message: 'x' });
  });

  it('writes a non-string message as its string, scrubbed, and a missing one as ""', () => {
    const conn = { code: 'E_CONN', message: new URL('https://ann:hunter2@db.example/x') };
    expect(serializeError(conn, noStack)).toEqual({
      code: 'E_CONN',
      message: 'https://[REDACTED]@db.example/x',
    });
    expect(serializeError({ code: 'E_X', message: 42 }, noStack)).toEqual({
      code: 'E_X',
      message: '42',
    });
    expect(serializeError({ code: 'E_X' }, noStack)).toEqual({ code: 'E_X', message: '' });
  });

  it('writes no stack for an error-like without one, even when stacks are on', () => {
    expect(serializeError({ code: 'E_X', message: 'plain' }, withStack)).toEqual({
      code: 'E_X',
      message: 'plain',
    });
  });

  it('writes a numeric code once, not again in extra', () => {
    expect(serializeError(Object.assign(new Error('x'), { code: 503 }), noStack)).toEqual({
      type: 'Error',
      code: '503',
      message: 'x',
    });
  });

  it('marks an own property whose getter throws and keeps the others', () => {
    const err = Object.assign(new Error('x'), { statusCode: 502 });
    Object.defineProperty(err, 'response', {
      enumerable: true,
      get() {
        throw new Error('socket gone for kim@example.com');
      },
    });
    expect(serializeError(err, noStack).extra).toEqual({
      statusCode: 502,
      response: '[GetterThrew]',
    });
  });

  it('writes an error revived from JSON by its fields, with nothing repeated in extra', () => {
    // An RPC peer's error: every field is an own enumerable property.
    const revived: unknown = JSON.parse(
      JSON.stringify({
        name: 'AggregateError',
        message: 'all failed',
        stack: 'AggregateError: all failed\n    at peer (rpc.js:1:1)',
        errors: [{ name: 'Error', message: 'e1' }],
        cause: { message: 'root' },
      }),
    );
    const written = {
      type: 'AggregateError',
      message: 'all failed',
      errors: [{ type: 'Error', message: 'e1' }],
      cause: { message: 'root' },
    };
    expect(serializeError(revived, noStack)).toEqual(written);
    expect(serializeError(revived, withStack)).toEqual({
      ...written,
      stack: 'AggregateError: all failed\n    at peer (rpc.js:1:1)',
    });
  });

  it('writes exactly 10 errors of an AggregateError without a "more" entry', () => {
    const errors = Array.from({ length: 10 }, (_, i) => new Error(`e${i}`));
    const out = serializeError(new AggregateError(errors, 'all failed'), noStack);
    expect(out.errors?.map((e) => e.message)).toEqual(errors.map((e) => e.message));
  });

  it('cuts nested AggregateErrors at the cause depth and marks one that contains itself', () => {
    let err: Error = new Error('leaf');
    for (let i = 1; i <= 8; i++) err = new AggregateError([err], `level ${i}`);
    const chain: string[] = [];
    for (let e: SerializedError | undefined = serializeError(err, noStack); e; e = e.errors?.[0])
      chain.push(e.message);
    expect(chain).toEqual([
      'level 8',
      'level 7',
      'level 6',
      'level 5',
      'level 4',
      'level 3',
      '[MaxCauseDepth]',
    ]);
    const self = new AggregateError([], 'self');
    self.errors.push(self);
    expect(serializeError(self, noStack).errors).toEqual([{ message: '[Circular]' }]);
  });

  it('keeps no secret of an error anywhere in the error field', () => {
    const leaf = Object.assign(new Error('login for kim@example.com'), {
      code: 'E_AUTH kim@example.com',
      password: 'hunter2-pw',
      request: { id: 7, token: 'tok-abc-123' },
    });
    leaf.name = 'AuthError(kim@example.com)';
    const agg = new AggregateError(
      [
        leaf,
        'retry with Authorization: Bearer abcdefghijklmnop',
        { message: 'https://u:s3cr3t@h.example/' },
      ],
      'all 3 logins failed',
      { cause: { message: 'pool', apiKey: 'key-999', cause: 'token=tok-xyz-777' } },
    );
    const out = serializeError(agg, withStack);
    const text = JSON.stringify(out);
    for (const secret of [
      'kim@example.com',
      'hunter2-pw',
      'tok-abc-123',
      'abcdefghijklmnop',
      's3cr3t',
      'key-999',
      'tok-xyz-777',
    ])
      expect(text).not.toContain(secret);
    expect(out.message).toBe('all 3 logins failed');
    expect(out.errors?.[0]).toMatchObject({
      type: 'AuthError([EMAIL])',
      code: 'E_AUTH [EMAIL]',
      message: 'login for [EMAIL]',
      extra: { password: '[REDACTED]', request: { id: 7, token: '[REDACTED]' } },
    });
    expect(out.cause).toMatchObject({ message: 'pool', cause: { message: 'token=[REDACTED]' } });
  });
});

describe('serializeError: request bodies at the MAX_BODY_CHARS cut', () => {
  const x = (n: number): string => 'x'.repeat(n);
  const cut = (body: string): string => {
    const err = Object.assign(new SyntaxError('Unexpected token'), { body });
    return serializeError(err, noStack).extra?.['body'] as string;
  };
  const truncated = (kept: string, body: string): string =>
    `${kept}…[TRUNCATED ${body.length} chars]`;

  it('keeps a body of exactly MAX_BODY_CHARS whole and cuts one character more', () => {
    expect(MAX_BODY_CHARS).toBe(256);
    expect(cut(x(256))).toBe(x(256));
    expect(cut(x(257))).toBe(truncated(x(256), x(257)));
  });

  it('never cuts a character outside the BMP in half', () => {
    // A high surrogate at the last kept position: the pair goes.
    for (const ch of ['😀', '\u{10000}', '\u{10FFFF}']) {
      const body = x(255) + ch + x(20);
      expect(cut(body)).toBe(truncated(x(255), body));
    }
    // A low surrogate there: the pair ends inside the cut and stays.
    const body = x(254) + '😀' + x(20);
    expect(cut(body)).toBe(truncated(x(254) + '😀', body));
  });

  it('cuts before a scrubbed marker that the cut would split', () => {
    // '[EMAIL]' at 251..257 (after scrubbing).
    const body = `${x(250)} kim@example.com then more text`;
    expect(cut(body)).toBe(truncated(`${x(250)} `, `${x(250)} [EMAIL] then more text`));
    // ']' exactly at the cut (index 256): still split.
    const atCut = `${x(249)} kim@example.com rest of the body`;
    expect(cut(atCut)).toBe(truncated(`${x(249)} `, `${x(249)} [EMAIL] rest of the body`));
    // ']' just before the cut (index 255): the marker is whole and kept.
    const before = `${x(248)} kim@example.com rest of the body`;
    expect(cut(before)).toBe(truncated(`${x(248)} [EMAIL]`, `${x(248)} [EMAIL] rest of the body`));
  });

  it('treats a "[" more than 11 characters before the cut as text', () => {
    // A JSON array body: its opening bracket is not a marker.
    const array = `[${'1,'.repeat(200)}1]`;
    expect(cut(array)).toBe(truncated(array.slice(0, 256), array));
    // '[' at 244 (12 before the cut) is text; at 245 it may start a marker.
    const at244 = `${x(244)}[${x(40)}]`;
    expect(cut(at244)).toBe(truncated(at244.slice(0, 256), at244));
    const at245 = `${x(245)}[${x(40)}]`;
    expect(cut(at245)).toBe(truncated(x(245), at245));
  });
});
