import { describe, expect, it } from 'vitest';
import { enqueueSpanName, httpServerSpanName, SPAN_NAMES } from '../../src/tracing/index.js';

describe('SPAN_NAMES', () => {
  it('lists the spec key spans verbatim, by stack', () => {
    const byStack = (stack: string): string[] =>
      Object.values(SPAN_NAMES)
        .filter((s) => s.stack === stack && !s.template)
        .map((s) => s.name);
    expect(byStack('S2')).toEqual(['WS send']);
    // The spec's key spans, plus SSE send (the SSE twin of WS send).
    expect(byStack('S3')).toEqual([
      'SSE send',
      'enqueue q_import',
      'outbox.append',
      'events.replay',
    ]);
    expect(byStack('S4')).toEqual(['import.page', 'score.trade', 'sim.run', 'digest.aggregate']);
    expect(byStack('S5')).toEqual(['indicators', 'bias.score', 'nlg.reflect']);
  });

  it('marks the templates', () => {
    const templates = Object.values(SPAN_NAMES)
      .filter((s) => s.template)
      .map((s) => s.name);
    expect(templates).toEqual(['HTTP <route>', 'enqueue <queue>', 'process <queue>']);
  });

  it('has a description and a kind for every entry (docs are generated from it)', () => {
    for (const entry of Object.values(SPAN_NAMES)) {
      expect(entry.description.length).toBeGreaterThan(10);
      expect(['server', 'client', 'producer', 'consumer', 'internal']).toContain(entry.kind);
    }
  });

  it('is frozen, entries included', () => {
    expect(Object.isFrozen(SPAN_NAMES)).toBe(true);
    for (const entry of Object.values(SPAN_NAMES)) expect(Object.isFrozen(entry)).toBe(true);
  });

  it('has unique names', () => {
    const names = Object.values(SPAN_NAMES).map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('httpServerSpanName', () => {
  it.each([
    ['POST', '/trades/import', 'HTTP /trades/import'],
    ['GET', '/users/:id', 'HTTP /users/:id'],
    ['get', undefined, 'HTTP GET'],
    ['PATCH', '', 'HTTP PATCH'],
    ['BREW', undefined, 'HTTP'],
    [undefined, undefined, 'HTTP'],
  ])('(%j, %j) is %j', (method, route, expected) => {
    expect(httpServerSpanName(method, route)).toBe(expected);
  });
});

describe('enqueueSpanName', () => {
  it('names the producer span after the queue', () => {
    expect(enqueueSpanName('q_import')).toBe(SPAN_NAMES.enqueueImport.name);
    expect(enqueueSpanName('q_score')).toBe('enqueue q_score');
    expect(enqueueSpanName('')).toBe('enqueue');
  });
});
