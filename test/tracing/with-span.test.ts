import {
  diag,
  DiagLogLevel,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type DiagLogger,
  type Span,
} from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { withSpan } from '../../src/tracing/index.js';
import { setupTracing, type TracingHarness } from './harness.js';

let harness: TracingHarness;

const silentLogger: DiagLogger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};

beforeAll(() => {
  harness = setupTracing();
});
afterEach(() => {
  harness.exporter.reset();
  vi.restoreAllMocks();
});
afterAll(async () => {
  await harness.teardown();
});

function finished(): ReadableSpan[] {
  return harness.exporter.getFinishedSpans();
}

function only(): ReadableSpan {
  const spans = finished();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

describe('withSpan', () => {
  it('returns a sync value and ends the span', () => {
    expect(withSpan('sim.run', { 'sim.id': 's1' }, () => 42)).toBe(42);
    const span = only();
    expect(span.name).toBe('sim.run');
    expect(span.attributes).toEqual({ 'sim.id': 's1' });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.events).toEqual([]);
  });

  it('rethrows a sync error unchanged and records it', () => {
    const error = new TypeError('bad trade');
    let caught: unknown;
    try {
      withSpan('score.trade', {}, () => {
        throw error;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(error);
    const span = only();
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad trade' });
    expect(span.events).toHaveLength(1);
    expect(span.events[0]!.name).toBe('exception');
    expect(span.events[0]!.attributes).toMatchObject({
      'exception.type': 'TypeError',
      'exception.message': 'bad trade',
    });
  });

  it('resolves an async value and ends the span when it settles', async () => {
    const pending = withSpan('import.page', undefined, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 'page';
    });
    expect(finished()).toHaveLength(0);
    await expect(pending).resolves.toBe('page');
    expect(only().status.code).toBe(SpanStatusCode.UNSET);
  });

  it('rejects with the original error and records it', async () => {
    const error = new Error('broker 429');
    await expect(
      withSpan('import.page', undefined, async () => {
        await Promise.resolve();
        throw error;
      }),
    ).rejects.toBe(error);
    const span = only();
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'broker 429' });
    expect(span.events[0]!.attributes).toMatchObject({ 'exception.message': 'broker 429' });
  });

  it('handles non-Error throwables', () => {
    expect(() =>
      withSpan('x', {}, () => {
        throw 'plain string';
      }),
    ).toThrow('plain string');
    expect(only().status).toEqual({ code: SpanStatusCode.ERROR, message: 'plain string' });
    harness.exporter.reset();

    const odd = { code: 7 };
    try {
      withSpan('x', {}, () => {
        throw odd;
      });
    } catch (e) {
      expect(e).toBe(odd);
    }
    expect(only().status).toEqual({ code: SpanStatusCode.ERROR, message: '[object Object]' });
  });

  it('supports non-promise thenables', async () => {
    const thenable: PromiseLike<number> = {
      then: (onFulfilled) => Promise.resolve(7).then(onFulfilled),
    };
    expect(await withSpan('x', {}, () => thenable)).toBe(7);
    expect(only().status.code).toBe(SpanStatusCode.UNSET);
  });

  it('ends the span exactly once, on every path', async () => {
    // The SDK reports a second end() through diag.error; listen for it.
    const diagErrors: unknown[] = [];
    diag.setLogger(
      { ...silentLogger, error: (...args: unknown[]) => void diagErrors.push(args) },
      DiagLogLevel.ERROR,
    );
    const ends: string[] = [];
    const track = (span: Span): void => {
      const end = span.end.bind(span);
      span.end = (time) => {
        ends.push(span.spanContext().spanId);
        end(time);
      };
    };
    try {
      withSpan('a', {}, (span) => track(span));
      expect(() =>
        withSpan('b', {}, (span) => {
          track(span);
          throw new Error('x');
        }),
      ).toThrow('x');
      await withSpan('c', {}, async (span) => track(span));
      await expect(
        withSpan('d', {}, async (span) => {
          track(span);
          throw new Error('y');
        }),
      ).rejects.toThrow('y');
    } finally {
      diag.disable();
    }
    expect(ends).toHaveLength(4);
    expect(new Set(ends).size).toBe(4);
    expect(finished().map((s) => s.name)).toEqual(['a', 'b', 'c', 'd']);
    expect(diagErrors).toEqual([]);
  });

  it('leaves a span that fn ended itself alone', async () => {
    let ends = 0;
    const endEarly = (span: Span): void => {
      const end = span.end.bind(span);
      span.end = (time) => {
        ends++;
        end(time);
      };
      span.end();
    };
    withSpan('sync', {}, endEarly);
    await withSpan('async', {}, async (span) => endEarly(span));
    expect(() =>
      withSpan('throws', {}, (span) => {
        endEarly(span);
        throw new Error('after end');
      }),
    ).toThrow('after end');
    expect(ends).toBe(3);
    // Ended by fn before the failure, so the failure is not recorded on it.
    expect(finished().map((s) => [s.name, s.status.code])).toEqual([
      ['sync', SpanStatusCode.UNSET],
      ['async', SpanStatusCode.UNSET],
      ['throws', SpanStatusCode.UNSET],
    ]);
  });

  it('nests spans: parent and child, sync and async', async () => {
    await withSpan('parent', {}, async (parent) => {
      withSpan('sync child', {}, () => undefined);
      await withSpan('async child', {}, async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        withSpan('grandchild', {}, () => undefined);
      });
      expect(trace.getActiveSpan()).toBe(parent);
    });
    const byName = new Map(finished().map((s) => [s.name, s]));
    const parent = byName.get('parent')!;
    expect(parent.parentSpanContext).toBeUndefined();
    for (const child of ['sync child', 'async child']) {
      expect(byName.get(child)!.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(byName.get(child)!.spanContext().traceId).toBe(parent.spanContext().traceId);
    }
    expect(byName.get('grandchild')!.parentSpanContext?.spanId).toBe(
      byName.get('async child')!.spanContext().spanId,
    );
  });

  it('makes the span active inside fn and passes it in', () => {
    withSpan('x', {}, (span) => {
      expect(trace.getActiveSpan()).toBe(span);
    });
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it('uses the tracer passed in options, with kind and parent context', () => {
    const getTracer = vi.spyOn(trace, 'getTracer');
    withSpan('enqueue q_import', {}, () => undefined, {
      tracer: harness.tracer,
      kind: SpanKind.PRODUCER,
      root: true,
    });
    expect(getTracer).not.toHaveBeenCalled();
    const span = only();
    expect(span.kind).toBe(SpanKind.PRODUCER);
    expect(span.instrumentationScope.name).toBe('test');
  });

  it('uses the global "stacklight" tracer by default', () => {
    withSpan('x', {}, () => undefined);
    expect(only().instrumentationScope.name).toBe('stacklight');
  });

  it('sets status OK on success only when asked to', () => {
    withSpan('x', {}, () => 1, { setOkStatusOnSuccess: true });
    expect(only().status.code).toBe(SpanStatusCode.OK);
  });

  it('passes attributes through sanitize', () => {
    const sanitize = (attributes: Attributes): Attributes => ({
      ...attributes,
      'user.email': '[redacted]',
    });
    withSpan('x', { 'user.email': 'a@b.c', route: '/x' }, () => undefined, { sanitize });
    expect(only().attributes).toEqual({ 'user.email': '[redacted]', route: '/x' });
  });

  it('drops attributes when sanitize throws, and still runs fn', () => {
    const sanitize = (): Attributes => {
      throw new Error('redactor down');
    };
    expect(withSpan('x', { secret: 's' }, () => 'ran', { sanitize })).toBe('ran');
    expect(only().attributes).toEqual({});
  });

  it('runs fn with a non-recording span when the tracer throws', () => {
    const broken = {
      startSpan: () => {
        throw new Error('tracer down');
      },
      startActiveSpan: () => {
        throw new Error('tracer down');
      },
    } as unknown as typeof harness.tracer;
    const result = withSpan('x', {}, (span) => span.isRecording(), { tracer: broken });
    expect(result).toBe(false);
    expect(finished()).toHaveLength(0);
  });

  it('does not need a registered propagator', () => {
    expect(propagation.fields()).toEqual([]);
  });
});
