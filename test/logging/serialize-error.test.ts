import { describe, expect, it } from 'vitest';
import { createRedactor, serializeError } from '../../src/logging/index.js';
import { MAX_BODY_CHARS } from '../../src/logging/serialize-error.js';

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
});
