/**
 * Trace and span ids: W3C-valid (lowercase hex of the right length, never
 * all zeroes), unique, and what stacklight's spans actually carry.
 */
import { isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { ids, PooledIdGenerator } from '../../src/tracing/ids.js';

describe('PooledIdGenerator', () => {
  it('gives valid, distinct ids across many pool refills', () => {
    const g = new PooledIdGenerator();
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const t = g.generateTraceId();
      const s = g.generateSpanId();
      expect(isValidTraceId(t), t).toBe(true);
      expect(isValidSpanId(s), s).toBe(true);
      expect(t).toMatch(/^[0-9a-f]{32}$/);
      expect(s).toMatch(/^[0-9a-f]{16}$/);
      traces.add(t);
      spans.add(s);
    }
    expect(traces.size).toBe(5000);
    expect(spans.size).toBe(5000);
  });

  it('never returns an all-zero id, even when the randomness says so', () => {
    const g = new PooledIdGenerator();
    // Force the next pool to be all zeroes but for one non-zero byte at the end.
    const internals = g as unknown as { hex: string; pos: number };
    internals.hex = '0'.repeat(64) + 'ab'.repeat(16);
    internals.pos = 0;
    expect(g.generateTraceId()).toBe('ab'.repeat(16));
  });

  it('is the generator of stacklight’s tracer provider', async () => {
    const { init } = await import('../../src/index.js');
    const { createLogCapture } = await import('../helpers/log-capture.js');
    const generateSpanId = ids.generateSpanId.bind(ids);
    let calls = 0;
    (ids as { generateSpanId: () => string }).generateSpanId = () => {
      calls++;
      return generateSpanId();
    };
    const t = init({
      service: 'edge',
      logging: { destination: createLogCapture().stream },
      metrics: { defaultMetrics: false },
      tracing: { exporter: 'none' },
    });
    try {
      t.tracer.startSpan('work').end();
      expect(calls).toBe(1);
    } finally {
      (ids as { generateSpanId: () => string }).generateSpanId = generateSpanId;
      await t.shutdown();
    }
  });
});
