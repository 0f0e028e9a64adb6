import { describe, expect, it } from 'vitest';
import { isThenable, withTimeout } from '../../src/util/async.js';
import { exceptionOf, messageOf } from '../../src/util/errors.js';

describe('messageOf', () => {
  it('reads strings, error messages and anything else as text, and survives hostile values', () => {
    expect(messageOf('boom')).toBe('boom');
    expect(messageOf(new Error('bad'))).toBe('bad');
    expect(messageOf({ message: 'shaped' })).toBe('shaped');
    expect(messageOf(42)).toBe('42');
    const hostile = {
      get message(): string {
        throw new Error('getter');
      },
    };
    expect(messageOf(hostile)).toBe('unknown error');
  });
});

describe('exceptionOf', () => {
  it('keeps errors, strings and error-like objects, and turns the rest into text', () => {
    const err = new Error('x');
    expect(exceptionOf(err)).toBe(err);
    expect(exceptionOf('s')).toBe('s');
    const like = { message: 'm', code: 'E' };
    expect(exceptionOf(like)).toBe(like);
    expect(exceptionOf(7)).toBe('7');
    expect(exceptionOf(Object.create(null))).toBe('unknown error');
  });
});

describe('isThenable', () => {
  it('recognises promises and thenables, and treats a throwing then getter as a plain value', () => {
    expect(isThenable(Promise.resolve(1))).toBe(true);
    expect(isThenable({ then: () => undefined })).toBe(true);
    expect(isThenable(null)).toBe(false);
    expect(isThenable({ then: 1 })).toBe(false);
    const hostile = Object.defineProperty({}, 'then', {
      get() {
        throw new Error('getter');
      },
    });
    expect(isThenable(hostile)).toBe(false);
  });
});

describe('withTimeout', () => {
  it('passes the value through, names what timed out, and turns a non-Error rejection into an Error', async () => {
    await expect(withTimeout(Promise.resolve(3), 1000, 'x')).resolves.toBe(3);
    await expect(withTimeout(new Promise(() => undefined), 10, 'collector')).rejects.toThrow(
      'collector timed out after 10 ms',
    );
    const rejected = withTimeout(Promise.reject('plain'), 1000, 'x');
    await expect(rejected).rejects.toBeInstanceOf(Error);
    await expect(rejected).rejects.toThrow('plain');
  });
});
