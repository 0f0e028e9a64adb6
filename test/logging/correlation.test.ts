import { context, trace, TraceFlags, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWithContext, type TelemetryContext } from '../../src/context.js';
import { CONTEXT_FIELDS } from '../../src/logging/index.js';
import { oneLine, testLogger } from './fixtures.js';

describe('correlation', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider());
  });
  afterAll(() => {
    trace.disable();
    context.disable();
  });

  function inSpan<T>(fn: (span: Span) => T): T {
    return trace.getTracer('test').startActiveSpan('HTTP /users/:id', (span) => {
      try {
        return fn(span);
      } finally {
        span.end();
      }
    });
  }

  it('adds traceId and spanId of the active span', () => {
    const t = testLogger();
    const { line, ids } = inSpan((span) => ({
      line: oneLine(t, (l) => l.info('in span')),
      ids: span.spanContext(),
    }));
    expect(line).toMatchObject({ traceId: ids.traceId, spanId: ids.spanId });
  });

  it('follows the active span across awaits', async () => {
    const t = testLogger();
    const ids = await trace.getTracer('test').startActiveSpan('job', async (span) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      t.logger.info('after await');
      span.end();
      return span.spanContext();
    });
    expect(t.capture.lines()[0]).toMatchObject({ traceId: ids.traceId, spanId: ids.spanId });
  });

  it('adds no ids outside a span or for an invalid span context', () => {
    const t = testLogger();
    expect(oneLine(t, (l) => l.info('outside'))).not.toHaveProperty('traceId');
    const invalid = trace.wrapSpanContext({
      traceId: '0'.repeat(32),
      spanId: '0'.repeat(16),
      traceFlags: TraceFlags.NONE,
    });
    const line = context.with(trace.setSpan(context.active(), invalid), () =>
      oneLine(t, (l) => l.info('invalid')),
    );
    expect(line).not.toHaveProperty('traceId');
    expect(line).not.toHaveProperty('spanId');
  });

  it('lets an explicit traceId win over the active span', () => {
    const t = testLogger();
    const explicit = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const line = inSpan(() => oneLine(t, (l) => l.info({ traceId: explicit })));
    expect(line['traceId']).toBe(explicit);
  });

  it('adds the request/job context fields', () => {
    const t = testLogger();
    const ctx = {
      requestId: 'req-1',
      userId: 'u_1',
      route: '/r/:id',
      method: 'POST',
      queue: 'q_import',
      job: 'import.trades',
      jobId: 'j1',
      attempt: 2,
      eventId: 'ev-1',
    };
    const line = runWithContext(ctx, () => oneLine(t, (l) => l.info('ctx')));
    expect(line).toMatchObject(ctx);
  });

  it('copies every context field of the schema', () => {
    for (const name of CONTEXT_FIELDS) {
      const t = testLogger();
      const value = name === 'attempt' ? 3 : `v-${name}`;
      const ctx = { [name]: value } as TelemetryContext;
      const line = runWithContext(ctx, () => oneLine(t, (l) => l.info('x')));
      expect(line[name], name).toBe(value);
    }
  });

  it('reads context fields set after the context was entered', () => {
    const t = testLogger();
    const ctx: { requestId: string; route?: string } = { requestId: 'req-2' };
    const line = runWithContext(ctx, () => {
      ctx.route = '/late/:id';
      return oneLine(t, (l) => l.info('late'));
    });
    expect(line).toMatchObject({ requestId: 'req-2', route: '/late/:id' });
  });

  it('lets explicit fields win over context fields, writing each key once', () => {
    const t = testLogger();
    const line = runWithContext({ requestId: 'ctx', route: '/ctx' }, () =>
      oneLine(t, (l) => l.info({ route: '/explicit' })),
    );
    expect(line).toMatchObject({ requestId: 'ctx', route: '/explicit' });
    expect(t.capture.text().match(/"route":/g)).toHaveLength(1);
  });

  it('moves a context field of the wrong type under extra', () => {
    const t = testLogger();
    const line = runWithContext({ requestId: 'r', attempt: 'two' as unknown as number }, () =>
      oneLine(t, (l) => l.info('x')),
    );
    expect(line).toMatchObject({ requestId: 'r', extra: { attempt: 'two' } });
    expect(t.violations).toEqual([['wrong_type', 'attempt']]);
  });
});
