import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type Context,
  type SpanContext,
  type TextMapGetter,
} from '@opentelemetry/api';
import { suppressTracing, TraceState } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import {
  parseTraceState,
  StrictW3CTraceContextPropagator,
  TraceStateList,
} from '../../src/tracing/index.js';
import { SPAN_ID, TRACE_ID, TRACEPARENT } from './harness.js';

const propagator = new StrictW3CTraceContextPropagator();

function extract(carrier: unknown, getter: TextMapGetter = defaultTextMapGetter): Context {
  return propagator.extract(ROOT_CONTEXT, carrier, getter);
}

function inject(ctx: Context): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagator.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

function withSpanContext(spanContext: SpanContext): Context {
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

describe('StrictW3CTraceContextPropagator.extract', () => {
  it('sets a remote span context from a valid traceparent', () => {
    const spanContext = trace.getSpanContext(extract({ traceparent: TRACEPARENT }));
    expect(spanContext).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: undefined,
    });
  });

  it('attaches a valid tracestate as a TraceStateList', () => {
    const ctx = extract({
      traceparent: TRACEPARENT,
      tracestate: 'rojo=00f067aa0ba902b7,congo=t61',
    });
    const traceState = trace.getSpanContext(ctx)!.traceState;
    expect(traceState).toBeInstanceOf(TraceStateList);
    expect(traceState!.get('congo')).toBe('t61');
  });

  it('returns the context unchanged for an invalid traceparent, ignoring tracestate', () => {
    const carrier = {
      traceparent: `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`,
      tracestate: 'a=1',
    };
    expect(extract(carrier)).toBe(ROOT_CONTEXT);
  });

  it('treats several traceparent values as invalid', () => {
    expect(extract({ traceparent: [TRACEPARENT, TRACEPARENT] })).toBe(ROOT_CONTEXT);
    expect(extract({ traceparent: [] })).toBe(ROOT_CONTEXT);
  });

  it('accepts a one-element traceparent array', () => {
    expect(trace.getSpanContext(extract({ traceparent: [TRACEPARENT] }))?.traceId).toBe(TRACE_ID);
  });

  it('combines several tracestate values in order', () => {
    const ctx = extract({
      traceparent: TRACEPARENT,
      tracestate: ['foo=1,bar=2', 'rojo=1,congo=2', 'baz=3'],
    });
    expect(trace.getSpanContext(ctx)!.traceState!.serialize()).toBe(
      'foo=1,bar=2,rojo=1,congo=2,baz=3',
    );
  });

  it('combines an empty tracestate value with a non-empty one', () => {
    const ctx = extract({ traceparent: TRACEPARENT, tracestate: ['', 'foo=1'] });
    expect(trace.getSpanContext(ctx)!.traceState!.serialize()).toBe('foo=1');
  });

  it('keeps the first of a key duplicated across tracestate headers (Level 2)', () => {
    const ctx = extract({ traceparent: TRACEPARENT, tracestate: ['foo=1', 'foo=2,bar=3'] });
    const spanContext = trace.getSpanContext(ctx)!;
    expect(spanContext.traceId).toBe(TRACE_ID);
    expect(spanContext.traceState?.serialize()).toBe('foo=1,bar=3');
  });

  it('drops an invalid tracestate, an empty one, and one with a non-string part', () => {
    for (const tracestate of ['FOO=1', '', ' , ', ['a=1', 42]]) {
      const spanContext = trace.getSpanContext(extract({ traceparent: TRACEPARENT, tracestate }))!;
      expect(spanContext.traceId).toBe(TRACE_ID);
      expect(spanContext.traceState).toBeUndefined();
    }
  });

  it('never throws on hostile input', () => {
    const throwingGetter: TextMapGetter = {
      get: () => {
        throw new Error('boom');
      },
      keys: () => [],
    };
    const inputs: unknown[] = [
      undefined,
      null,
      42,
      'str',
      [],
      { traceparent: 42 },
      { traceparent: {} },
    ];
    for (const carrier of inputs) expect(extract(carrier)).toBe(ROOT_CONTEXT);
    expect(extract({}, throwingGetter)).toBe(ROOT_CONTEXT);
    expect(extract({ traceparent: 'x'.repeat(5_000_000) })).toBe(ROOT_CONTEXT);
  });

  it('lists its fields', () => {
    expect(propagator.fields()).toEqual(['traceparent', 'tracestate']);
  });
});

describe('StrictW3CTraceContextPropagator.inject', () => {
  const base: SpanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 };

  it('writes traceparent from the span context', () => {
    expect(inject(withSpanContext(base))).toEqual({ traceparent: TRACEPARENT });
  });

  it('writes only the sampled and random flags', () => {
    expect(inject(withSpanContext({ ...base, traceFlags: 0xfd })).traceparent).toBe(TRACEPARENT);
    expect(inject(withSpanContext({ ...base, traceFlags: 0x02 })).traceparent).toMatch(/-02$/);
  });

  it('writes nothing without a span context, for invalid ids, or when tracing is suppressed', () => {
    expect(inject(ROOT_CONTEXT)).toEqual({});
    expect(inject(withSpanContext({ ...base, traceId: TRACE_ID.toUpperCase() }))).toEqual({});
    expect(inject(withSpanContext({ ...base, spanId: '0'.repeat(16) }))).toEqual({});
    expect(inject(suppressTracing(withSpanContext(base)))).toEqual({});
  });

  it('writes a foreign (OpenTelemetry) TraceState after validating it', () => {
    const traceState = new TraceState('congo=t61,rojo=1');
    expect(inject(withSpanContext({ ...base, traceState })).tracestate).toBe('congo=t61,rojo=1');
  });

  it('writes no tracestate for an empty list', () => {
    expect(inject(withSpanContext({ ...base, traceState: new TraceStateList() }))).toEqual({
      traceparent: TRACEPARENT,
    });
  });

  it('never throws when the setter does', () => {
    const throwingSetter = {
      set: () => {
        throw new Error('frozen');
      },
    };
    expect(() => propagator.inject(withSpanContext(base), {}, throwingSetter)).not.toThrow();
  });
});

describe('round trip through the propagator', () => {
  it('passes a valid tracestate on unchanged', () => {
    const tracestate = 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE';
    const out = inject(extract({ traceparent: TRACEPARENT, tracestate }));
    expect(out).toEqual({ traceparent: TRACEPARENT, tracestate });
  });

  it('normalises OWS and empty members when passing tracestate on', () => {
    const out = inject(extract({ traceparent: TRACEPARENT, tracestate: ' rojo=1 ,, congo=2\t' }));
    expect(out.tracestate).toBe('rojo=1,congo=2');
  });

  it('puts a service-added entry at the front', () => {
    const remote = trace.getSpanContext(
      extract({ traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE' }),
    )!;
    const child: SpanContext = {
      traceId: remote.traceId,
      spanId: 'b9c7c989f97918e1',
      traceFlags: remote.traceFlags,
      traceState: remote.traceState!.set('rojo', 'b9c7c989f97918e1'),
    };
    expect(inject(withSpanContext(child))).toEqual({
      traceparent: `00-${TRACE_ID}-b9c7c989f97918e1-01`,
      tracestate: 'rojo=b9c7c989f97918e1,congo=t61rcWkgMzE',
    });
  });

  it('re-emits a future version as version 00 and drops its extra fields', () => {
    const out = inject(
      extract({ traceparent: `cc-${TRACE_ID}-${SPAN_ID}-01-future`, tracestate: 'a=1' }),
    );
    expect(out).toEqual({ traceparent: TRACEPARENT, tracestate: 'a=1' });
  });

  it('drops tracestate when traceparent is invalid', () => {
    const out = inject(extract({ traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'a=1' }));
    expect(out).toEqual({});
  });

  it('parses the tracestate it emits', () => {
    const out = inject(extract({ traceparent: TRACEPARENT, tracestate: 'a=1, b=2' }));
    expect(parseTraceState(out.tracestate)?.entries()).toEqual([
      ['a', '1'],
      ['b', '2'],
    ]);
  });
});
