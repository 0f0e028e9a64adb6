import { EventEmitter } from 'node:events';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { getContext, init, runWithContext, type Telemetry } from '../../src/index.js';
import { createLogCapture, type LogCapture } from '../helpers/log-capture.js';

let live: Telemetry | undefined;
const captures: LogCapture[] = [];
afterEach(async () => {
  await live?.shutdown();
  live = undefined;
  // Every line the tests' loggers wrote validates against the log schema.
  for (const capture of captures.splice(0)) capture.lines();
});
const sink = () => {
  const capture = createLogCapture();
  captures.push(capture);
  return capture.stream;
};

describe('one store for the trace context and the request context', () => {
  it('keeps the request context across context.with and the span across runWithContext', async () => {
    live = init({ service: 's', logging: { destination: sink() }, tracing: { exporter: 'none' } });
    const span = live.tracer.startSpan('outer');
    await runWithContext({ requestId: 'r1' }, async () => {
      await context.with(trace.setSpan(context.active(), span), async () => {
        await Promise.resolve();
        expect(getContext()?.requestId).toBe('r1');
        expect(trace.getSpan(context.active())).toBe(span);
        await runWithContext({ requestId: 'r2' }, async () => {
          await new Promise((r) => setTimeout(r, 1));
          expect(getContext()?.requestId).toBe('r2');
          expect(trace.getSpan(context.active())).toBe(span);
        });
        expect(getContext()?.requestId).toBe('r1');
      });
      expect(trace.getSpan(context.active())).toBeUndefined();
      expect(getContext()?.requestId).toBe('r1');
    });
    expect(getContext()).toBeUndefined();
    span.end();
  });

  it('binds event emitters and functions to the trace context', async () => {
    live = init({ service: 's', logging: { destination: sink() }, tracing: { exporter: 'none' } });
    const span = live.tracer.startSpan('bound');
    const ctx = trace.setSpan(ROOT_CONTEXT, span);
    const emitter = context.bind(ctx, new EventEmitter());
    const seen = await new Promise((resolve) => {
      emitter.on('x', () => resolve(trace.getSpan(context.active())));
      setImmediate(() => emitter.emit('x'));
    });
    expect(seen).toBe(span);
    expect(context.bind(ctx, () => trace.getSpan(context.active()))()).toBe(span);
    span.end();
  });

  it('still activates the request span when another context manager was registered first', async () => {
    const other = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(other);
    live = init({ service: 's', logging: { destination: sink() }, tracing: { exporter: 'none' } });
    const app = Fastify();
    await app.register(stacklightPlugin, { telemetry: live });
    app.get('/x', async () => ({
      traceId: trace.getSpan(context.active())?.spanContext().traceId,
      requestId: getContext()?.requestId,
    }));
    const res = await app.inject({
      url: '/x',
      headers: {
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        'x-request-id': 'abc',
      },
    });
    expect(res.json()).toEqual({ traceId: '0af7651916cd43dd8448eb211c80319c', requestId: 'abc' });
    await live.shutdown();
    live = undefined;
    context.disable();
  });
});
