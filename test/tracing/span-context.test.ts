/**
 * The server span's context is stacklight's own small object instead of
 * OpenTelemetry's map-copying context. It must read, derive and delete
 * exactly like `trace.setSpan(parent, span)` does.
 */
import {
  context,
  createContextKey,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed, suppressTracing } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { contextWithSpan } from '../../src/tracing/span-context.js';

const span = (n: number) =>
  trace.wrapSpanContext({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: n.toString(16).padStart(16, '0'),
    traceFlags: TraceFlags.SAMPLED,
  });
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
const keys = [SPAN_KEY, createContextKey('a'), createContextKey('b'), Symbol('private')];

function same(ours: Context, theirs: Context): void {
  for (const k of keys) expect(ours.getValue(k)).toBe(theirs.getValue(k));
  expect(trace.getSpan(ours)).toBe(trace.getSpan(theirs));
  expect(isTracingSuppressed(ours)).toBe(isTracingSuppressed(theirs));
}

describe('the server span context', () => {
  it('is what trace.setSpan makes, through any sequence of derivations', () => {
    let seed = 3;
    const next = (n: number): number => {
      seed = (seed * 48271) % 0x7fffffff;
      return seed % n;
    };
    const parents = [
      ROOT_CONTEXT,
      ROOT_CONTEXT.setValue(keys[1]!, 'one'),
      trace.setSpan(ROOT_CONTEXT.setValue(keys[2]!, 2), span(9)),
      suppressTracing(ROOT_CONTEXT),
    ];
    for (let run = 0; run < 400; run++) {
      const parent = parents[run % parents.length]!;
      const s = span(run + 1);
      let ours = contextWithSpan(parent, s);
      let theirs = trace.setSpan(parent, s);
      same(ours, theirs);
      for (let step = 0; step < 6; step++) {
        const k = keys[next(keys.length)]!;
        if (next(3) === 0) {
          ours = ours.deleteValue(k);
          theirs = theirs.deleteValue(k);
        } else {
          const v = k === SPAN_KEY ? span(1000 + step) : `v${step}`;
          ours = ours.setValue(k, v);
          theirs = theirs.setValue(k, v);
        }
        same(ours, theirs);
      }
    }
  });

  it('makes its span the active one under context.with', async () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const s = span(42);
      await context.with(contextWithSpan(ROOT_CONTEXT, s), async () => {
        await Promise.resolve();
        expect(trace.getActiveSpan()).toBe(s);
        expect(trace.getSpan(trace.deleteSpan(context.active()))).toBeUndefined();
      });
    } finally {
      context.disable();
    }
  });
});
