import { describe, expect, it } from 'vitest';
import { createInternalErrors } from '../src/internal-errors.js';

function harness() {
  let now = 0;
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  const counts = new Map<string, number>();
  const errors = createInternalErrors({
    counter: {
      inc: ({ component }, n = 1) => void counts.set(component, (counts.get(component) ?? 0) + n),
    },
    sink: {
      warn: (fields, msg) => void lines.push({ fields: fields as Record<string, unknown>, msg }),
    },
    intervalMs: 60_000,
    now: () => now,
  });
  return { errors, lines, counts, at: (t: number) => void (now = t) };
}

describe('internal error reporter', () => {
  it('counts every fault and warns at most once a minute per key, then says how many were held back', () => {
    const h = harness();
    h.errors.fault('jobs', 'jobs:run', 'a');
    h.at(30_000);
    h.errors.fault('jobs', 'jobs:run', 'b');
    h.errors.fault('jobs', 'jobs:run', 'c');
    h.errors.fault('jobs', 'jobs:other', 'other key');
    h.at(60_001);
    h.errors.fault('jobs', 'jobs:run', 'd');
    h.at(90_000);
    h.errors.fault('jobs', 'jobs:run', 'e');
    expect(h.counts.get('jobs')).toBe(6);
    expect(h.lines.map((l) => l.msg)).toEqual([
      'stacklight: a',
      'stacklight: other key',
      'stacklight: d (2 more since the last warning)',
    ]);
    expect(h.lines[0]!.fields).toEqual({ extra: { stacklight: 'jobs' } });
  });

  it('tags a plain warning with its key, keeps the error, and counts nothing', () => {
    const h = harness();
    const err = new Error('x');
    h.errors.warn('export', 'span export failed', err);
    expect(h.lines).toEqual([
      { fields: { extra: { stacklight: 'export' }, err }, msg: 'stacklight: span export failed' },
    ]);
    expect(h.counts.size).toBe(0);
  });

  it('prefixes a scope and keeps its intervals apart from the unscoped ones', () => {
    const h = harness();
    const fastify = h.errors.scoped('fastify');
    fastify.fault('http_user_id', 'http_user_id', 'the userId callback threw');
    h.errors.fault('http_user_id', 'http_user_id', 'the userId callback threw');
    fastify.fault('http_user_id', 'http_user_id', 'the userId callback threw');
    expect(h.lines.map((l) => l.msg)).toEqual([
      'stacklight/fastify: the userId callback threw',
      'stacklight: the userId callback threw',
    ]);
    expect(h.counts.get('http_user_id')).toBe(3);
  });

  it('never throws, whatever the counter or the logger does, and counts without a logger', () => {
    const broken = createInternalErrors({
      counter: {
        inc: () => {
          throw new Error('counter');
        },
      },
      sink: {
        warn: () => {
          throw new Error('logger');
        },
      },
    });
    expect(() => broken.fault('c', 'k', 'm')).not.toThrow();
    expect(() => broken.count('c', 2)).not.toThrow();
    let counted = 0;
    const quiet = createInternalErrors({ counter: { inc: () => void counted++ }, sink: undefined });
    quiet.fault('c', 'k', 'm');
    expect(counted).toBe(1);
  });
});
