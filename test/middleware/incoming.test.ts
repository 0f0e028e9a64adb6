/**
 * `tracing.incoming` and the Level 2 random flag, through `init()`, the
 * Fastify plugin and the OTLP receiver: what the server span does with a
 * caller's `traceparent`, and which flags the service's own outgoing
 * `traceparent` carries.
 */
import { context, propagation } from '@opentelemetry/api';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { ConfigError, init, type Telemetry, type TracingIncoming } from '../../src/index.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../helpers/otlp-receiver.js';

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

let receiver: OtlpReceiver;
let telemetry: Telemetry | undefined;
let app: FastifyInstance | undefined;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});
afterAll(() => receiver.close());
afterEach(async () => {
  await app?.close();
  app = undefined;
  await telemetry?.shutdown();
  telemetry = undefined;
});

/** Serves GET /out/:n, which answers with the traceparent it would send downstream. */
async function start(incoming?: TracingIncoming): Promise<FastifyInstance> {
  telemetry = init({
    service: 'edge',
    env: 'test',
    logging: { destination: createLogCapture().stream },
    metrics: { defaultMetrics: false },
    tracing: {
      endpoint: receiver.url,
      scheduledDelayMs: 20,
      ...(incoming === undefined ? {} : { incoming }),
    },
  });
  app = Fastify();
  await app.register(stacklightPlugin, { telemetry });
  app.get('/out/:n', async () => {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return { traceparent: carrier['traceparent'] };
  });
  await app.ready();
  return app;
}

async function call(
  f: FastifyInstance,
  n: string,
  traceparent?: string,
): Promise<{ outgoing: string; server: OtlpSpan }> {
  const res = await f.inject({
    url: `/out/${n}`,
    headers: traceparent === undefined ? {} : { traceparent },
  });
  const outgoing = (res.json() as { traceparent: string }).traceparent;
  const spanId = outgoing.split('-')[2];
  const [server] = await receiver.waitForSpans((all) => all.some((s) => s.spanId === spanId));
  return { outgoing, server: receiver.spans.find((s) => s.spanId === spanId) ?? server! };
}

describe('tracing.incoming', () => {
  it('continue (default): the server span is the caller’s child; no random flag is invented', async () => {
    const f = await start();
    const { outgoing, server } = await call(f, 'c1', `00-${CALLER_TRACE}-${CALLER_SPAN}-01`);
    expect(server.traceId).toBe(CALLER_TRACE);
    expect(server.parentSpanId).toBe(CALLER_SPAN);
    expect(server.links).toEqual([]);
    expect(outgoing).toMatch(new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`));
  });

  it('continue keeps the random flag of a caller that sets it', async () => {
    const f = await start('continue');
    const traceId = 'aaaabbbbccccddddeeeeffff00001111';
    const { outgoing } = await call(f, 'c2', `00-${traceId}-${CALLER_SPAN}-03`);
    expect(outgoing).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-03$`));
  });

  it('a trace stacklight starts carries sampled and random', async () => {
    const f = await start();
    const { outgoing, server } = await call(f, 'c3');
    expect(server.parentSpanId).toBe('');
    expect(outgoing).toBe(`00-${server.traceId}-${server.spanId}-03`);
  });

  it('restart: a new root with its own ids and sampling, linked to the caller', async () => {
    const f = await start('restart');
    // The caller asks for "not sampled": a restarted trace samples by its own rule.
    const { outgoing, server } = await call(f, 'r1', `00-${CALLER_TRACE}-${CALLER_SPAN}-00`);
    expect(server.traceId).not.toBe(CALLER_TRACE);
    expect(server.parentSpanId).toBe('');
    expect(server.links).toHaveLength(1);
    expect(server.links[0]).toMatchObject({ traceId: CALLER_TRACE, spanId: CALLER_SPAN });
    expect(outgoing).toBe(`00-${server.traceId}-${server.spanId}-03`);
  });

  it('restart without a traceparent: a plain root, no link', async () => {
    const f = await start('restart');
    const { server } = await call(f, 'r2');
    expect(server.parentSpanId).toBe('');
    expect(server.links).toEqual([]);
  });

  it('ignore: a new root and no link to the caller', async () => {
    const f = await start('ignore');
    const { outgoing, server } = await call(f, 'i1', `00-${CALLER_TRACE}-${CALLER_SPAN}-01`);
    expect(server.traceId).not.toBe(CALLER_TRACE);
    expect(server.parentSpanId).toBe('');
    expect(server.links).toEqual([]);
    expect(outgoing).toBe(`00-${server.traceId}-${server.spanId}-03`);
  });

  it('is read from STACKLIGHT_TRACING_INCOMING, and an unknown value is a ConfigError', () => {
    expect(
      resolveConfig({ service: 'edge' }, { STACKLIGHT_TRACING_INCOMING: 'restart' }).tracing
        .incoming,
    ).toBe('restart');
    expect(resolveConfig({ service: 'edge' }, {}).tracing.incoming).toBe('continue');
    expect(() =>
      resolveConfig({ service: 'edge' }, { STACKLIGHT_TRACING_INCOMING: 'drop' }),
    ).toThrow(ConfigError);
    expect(() =>
      resolveConfig({ service: 'edge' }, { STACKLIGHT_TRACING_INCOMING: 'drop' }),
    ).toThrow(
      'STACKLIGHT_TRACING_INCOMING must be one of "continue", "restart", "ignore", got "drop"',
    );
  });
});
