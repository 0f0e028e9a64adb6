/**
 * The WebSocket helpers against real sockets: a `ws` 8 WebSocketServer and a
 * Fastify 5 app with @fastify/websocket, both on port 0, with real `ws`
 * clients. The fakes of ws-connections.test.ts model what `ws` is documented
 * to do; these tests pin what it actually does (which close code a server
 * socket reports after `terminate()`, a protocol error, a close handshake…).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import fastifyWebsocket from '@fastify/websocket';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import { stacklightPlugin } from '../../src/fastify.js';
import {
  createEventDelivery,
  createOutbox,
  init,
  instrumentWebSocketServer,
  parseTraceParent,
  SPAN_NAMES,
  trackWebSocket,
  type EventEnvelope,
  type Telemetry,
} from '../../src/index.js';
import { createLogCapture, type LogCapture } from '../helpers/log-capture.js';

let telemetry: Telemetry;
let spans: InMemorySpanExporter;
let logs: LogCapture;
/** Closed in afterEach, last registered first. */
let cleanups: (() => Promise<unknown> | unknown)[];

beforeEach(() => {
  spans = new InMemorySpanExporter();
  logs = createLogCapture();
  cleanups = [];
  telemetry = init({
    service: 'edge',
    logging: { destination: logs.stream },
    metrics: { defaultMetrics: false },
    tracing: { exporter: 'none', spanProcessors: [new SimpleSpanProcessor(spans)] },
  });
});

afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await telemetry.shutdown();
  logs.lines(); // every line of the test validates against the log schema
});

// ---------------------------------------------------------------------------
// helpers

const active = (): number => telemetry.metrics.wsActiveConnections.read();
const dropped = (reason: string): number =>
  telemetry.metrics.wsDroppedConnectionsTotal.read({ reason });

/** One sample of the exposition text: its labels and value. */
interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** The samples of metric `name` in `await telemetry.metricsText()` (Prometheus text format). */
async function exposition(name: string): Promise<Sample[]> {
  const text = await telemetry.metricsText();
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[key!] = value!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** The `reason` → count map of `ws_dropped_connections_total`, read from the exposition. */
async function droppedByReason(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await exposition('ws_dropped_connections_total')) {
    expect(s.labels.service).toBe('edge');
    if (s.value !== 0) out[s.labels.reason!] = s.value;
  }
  return out;
}

/** A server-side socket and the close code it reports (listened to from the start). */
interface Accepted {
  socket: WebSocket;
  closed: Promise<number>;
}

/** Starts listening for `close` on a socket now, so no close is missed. */
function accept(socket: WebSocket): Accepted {
  return {
    socket,
    closed: new Promise<number>((resolve) => socket.once('close', (code: number) => resolve(code))),
  };
}

/**
 * A `ws` server on port 0, instrumented before any listener of the test (as a
 * service would: stacklight's `close` listener runs first, so once a test's
 * own `close` listener fired, the metrics are up to date). Server sockets are
 * filed by the `?id=` of the client's URL.
 */
async function startWsServer(options: ServerOptions = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  const detach = instrumentWebSocketServer(telemetry, wss);
  const accepted = new Map<string, Accepted>();
  const arrivals = new Map<string, (a: Accepted) => void>();
  wss.on('connection', (socket, req) => {
    const id = new URL(req.url ?? '/', 'http://localhost').searchParams.get('id') ?? '';
    const entry = accept(socket);
    accepted.set(id, entry);
    arrivals.get(id)?.(entry);
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  cleanups.push(() => {
    for (const client of wss.clients) client.terminate();
    return new Promise((resolve) => wss.close(resolve));
  });
  return {
    wss,
    url,
    detach,
    /** Opens a client; resolves once both ends are open. */
    async connect(id: string): Promise<{ client: Client; server: Accepted }> {
      const arrived = new Promise<Accepted>((resolve) => arrivals.set(id, resolve));
      const client = openClient(`${url}/?id=${id}`);
      await client.opened;
      return { client, server: await arrived };
    },
  };
}

/** A `ws` client, with what it received and the close code it saw. */
interface Client {
  ws: WebSocket;
  opened: Promise<void>;
  closed: Promise<number>;
  messages: string[];
  nextMessage(): Promise<string>;
}

function openClient(url: string): Client {
  const ws = new WebSocket(url);
  const messages: string[] = [];
  let waiting: ((m: string) => void) | undefined;
  // The client end is not under test; its errors (a reset after terminate) are expected.
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    messages.push(text);
    waiting?.(text);
    waiting = undefined;
  });
  cleanups.push(() => ws.terminate());
  return {
    ws,
    messages,
    opened: once(ws, 'open').then(() => undefined),
    closed: new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code))),
    nextMessage: () => new Promise<string>((resolve) => (waiting = resolve)),
  };
}

/** `socket.send` as a promise: resolves once the frame is written, rejects with ws's error. */
function sendAsync(socket: WebSocket, data: string): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    socket.send(data, (error) => (error ? reject(error) : resolve())),
  );
}

/** Lets pending I/O callbacks and timers of the current turn run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

function spanNamed(name: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter((s) => s.name === name);
}

// ---------------------------------------------------------------------------

describe('ws_active_connections and ws_dropped_connections_total with a real ws server', () => {
  it('stays exact through connects, normal closes, abrupt disconnects, server terminate and double closes', async () => {
    const server = await startWsServer();
    const ids = Array.from({ length: 14 }, (_, i) => String(i));
    // All at once: the handshakes interleave as they would under load.
    const pairs = await Promise.all(ids.map((id) => server.connect(id)));
    expect(active()).toBe(14);
    expect(await exposition('ws_active_connections')).toEqual([
      { labels: { service: 'edge' }, value: 14 },
    ]);

    const [c0, c1, c2, c3, c4, c5, s6, s7, s8, s9, c10, c11, s12] = pairs;
    c0!.client.ws.close(1000, 'bye');
    c1!.client.ws.close(1000);
    c2!.client.ws.close(); // no status: 1005
    c3!.client.ws.close(1001, 'tab closed');
    c4!.client.ws.terminate(); // socket destroyed, no close frame
    c5!.client.ws.terminate();
    s6!.server.socket.terminate(); // missed heartbeat
    s7!.server.socket.terminate();
    s8!.server.socket.close(1008, 'token expired');
    s9!.server.socket.close(1011, 'internal error');
    c10!.client.ws.close(4001, 'session expired');
    c11!.client.ws.close(1002);
    // Double close from the server: the second call is a no-op while CLOSING.
    s12!.server.socket.close(1000);
    s12!.server.socket.close(1000);

    const codes = await Promise.all(pairs.slice(0, 13).map((p) => p!.server.closed));
    // What the server sockets reported (the code the class comes from).
    expect(codes).toEqual([
      1000, 1000, 1005, 1001, 1006, 1006, 1006, 1006, 1008, 1011, 4001, 1002, 1000,
    ]);
    expect(active()).toBe(1);

    // Closing or terminating an already closed socket, from either end, changes nothing.
    for (const p of pairs.slice(0, 13)) {
      p!.server.socket.close(1000);
      p!.server.socket.terminate();
      p!.client.ws.close(1000);
      p!.client.ws.terminate();
    }
    await settle();
    expect(active()).toBe(1);

    expect(await droppedByReason()).toEqual({
      abnormal: 4,
      policy: 1,
      server: 1,
      app: 1,
      protocol: 1,
    });
    expect(dropped('abnormal')).toBe(4);

    pairs[13]!.client.ws.close(1000);
    await pairs[13]!.server.closed;
    expect(active()).toBe(0);
    expect(await exposition('ws_active_connections')).toEqual([
      { labels: { service: 'edge' }, value: 0 },
    ]);
  });

  it('decrements exactly once per connection that errors, without adding an error listener', async () => {
    const server = await startWsServer({ maxPayload: 1024 });
    const errors: string[] = [];
    const listenersBefore: number[] = [];
    server.wss.on('connection', (socket) => {
      listenersBefore.push(socket.listenerCount('error'));
      // The service's own handler: without one, ws's `error` would crash the process.
      socket.on('error', (error: Error & { code?: string }) => errors.push(error.code ?? ''));
    });
    const utf8 = await server.connect('utf8');
    const big = await server.connect('big');
    const ok = await server.connect('ok');
    expect(active()).toBe(3);
    expect(listenersBefore).toEqual([0, 0, 0]);

    utf8.client.ws.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false }); // invalid UTF-8 text
    big.client.ws.send('x'.repeat(4096)); // over maxPayload
    await Promise.all([utf8.server.closed, big.server.closed]);
    await settle(); // a late second `close`/`error` would land here

    expect(errors.sort()).toEqual(['WS_ERR_INVALID_UTF8', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    expect(active()).toBe(1);
    // One drop per erroring connection, whatever its class.
    const total = Object.values(await droppedByReason()).reduce((a, b) => a + b, 0);
    expect(total).toBe(2);
    expect(ok.server.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('counts a connection the server closes for a protocol violation under reason "protocol"', async () => {
    // The server closes these with 1007 (invalid UTF-8) and 1009 (message too
    // big): the documented class of both is `protocol`. But `ws` reports 1006
    // on the server socket's `close` (the code it *received*: none, since it
    // stops reading after the error), and trackWebSocket classifies that code
    // alone — so until it also looks at the error (EventEmitter.errorMonitor),
    // these are counted as `abnormal`, the class of lost connections.
    const server = await startWsServer({ maxPayload: 1024 });
    server.wss.on('connection', (socket) => socket.on('error', () => undefined));
    const utf8 = await server.connect('utf8');
    const big = await server.connect('big');
    utf8.client.ws.send(Buffer.from([0xff, 0xfe, 0xfd]), { binary: false });
    big.client.ws.send('x'.repeat(4096));
    // On the wire, the server closed with the protocol codes.
    expect(await utf8.client.closed).toBe(1007);
    expect(await big.client.closed).toBe(1009);
    await Promise.all([utf8.server.closed, big.server.closed]);

    expect(await droppedByReason()).toEqual({ protocol: 2 });
  });

  it('stops counting new connections once detached, and keeps counting the open ones until they close', async () => {
    const server = await startWsServer();
    const first = await server.connect('first');
    server.detach();
    const second = await server.connect('second');
    expect(active()).toBe(1);
    second.client.ws.terminate();
    first.client.ws.terminate();
    await Promise.all([first.server.closed, second.server.closed]);
    expect(active()).toBe(0);
    expect(await droppedByReason()).toEqual({ abnormal: 1 });
    expect(await exposition('http_requests_total')).toEqual([]);
    expect(logs.lines()).toEqual([]);
  });
});

describe('with Fastify 5 and @fastify/websocket', () => {
  it('counts each socket once when both the server and the route track it, and ends at zero when the app closes', async () => {
    const app = Fastify();
    await app.register(stacklightPlugin, { telemetry });
    await app.register(fastifyWebsocket);
    app.addHook('onReady', async () => {
      instrumentWebSocketServer(telemetry, app.websocketServer);
    });
    const sockets = new Map<string, Accepted>();
    // A WebSocket lives for hours: the plugin gives `websocket: true` routes no
    // request telemetry (each upgrade would end as a 499 "request aborted").
    app.get('/ws', { websocket: true }, (socket, request) => {
      trackWebSocket(telemetry, socket); // tracked a second time: counts once
      sockets.set((request.query as { id: string }).id, accept(socket));
      socket.on('message', (data: Buffer) => socket.send(`echo ${data.toString('utf8')}`));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    let appClosed = false;
    cleanups.push(() => (appClosed ? undefined : app.close()));
    const { port } = app.server.address() as AddressInfo;

    const clients = ['a', 'b', 'c', 'd', 'e'].map((id) =>
      openClient(`ws://127.0.0.1:${port}/ws?id=${id}`),
    );
    for (const [i, client] of clients.entries()) {
      await client.opened;
      const reply = client.nextMessage();
      client.ws.send(`hello ${i}`); // the route handler ran for this socket
      expect(await reply).toBe(`echo hello ${i}`);
    }
    expect(active()).toBe(5);

    clients[0]!.ws.close(1000);
    clients[1]!.ws.terminate();
    await Promise.all([sockets.get('a')!.closed, sockets.get('b')!.closed]);
    expect(active()).toBe(3);

    // Fastify's close: @fastify/websocket's preClose closes every client (1005).
    await app.close();
    appClosed = true;
    const codes = await Promise.all(['c', 'd', 'e'].map((id) => sockets.get(id)!.closed));
    expect(codes).toEqual([1005, 1005, 1005]);
    expect(active()).toBe(0);
    expect(await droppedByReason()).toEqual({ abnormal: 1 });
    expect(await exposition('http_requests_total')).toEqual([]);
    expect(logs.lines()).toEqual([]);
  });
});

describe('createEventDelivery on a real WebSocket send path', () => {
  /** Core: a request writes the event through the outbox; the row body is JSON (jsonb). */
  async function writeEvent(tradeId: string) {
    const outbox = createOutbox(telemetry, { types: ['coach.reflection'] });
    const table: { id: number; body: string }[] = [];
    const request = telemetry.tracer.startSpan('HTTP /internal/trades/:id/score', {
      kind: SpanKind.SERVER,
    });
    const id = await context.with(trace.setSpan(context.active(), request), () =>
      outbox.append(
        { type: 'coach.reflection', payload: { tradeId, text: 'You chased the breakout.' } },
        async (envelope) => {
          table.push({ id: table.length + 17, body: JSON.stringify(envelope) });
          return table.at(-1)!.id;
        },
      ),
    );
    request.end();
    const [append] = spanNamed(SPAN_NAMES.outboxAppend.name);
    return { row: table[0]!, id, request, append: append! };
  }

  /** Edge: the row read back, as the SSE stream hands it over. */
  function readRow(row: { id: number; body: string }): EventEnvelope<{ tradeId: string }> {
    return { ...(JSON.parse(row.body) as EventEnvelope<{ tradeId: string }>), id: String(row.id) };
  }

  it('records event_delivery_lag_ms{channel="ws"} and a WS send span linked to the trace that wrote the event', async () => {
    const server = await startWsServer();
    const { client, server: accepted } = await server.connect('u_42');
    const delivery = createEventDelivery(telemetry, { channel: 'ws' });

    const { row, id, request, append } = await writeEvent('t_42');
    expect(id).toBe(17);
    await new Promise((resolve) => setTimeout(resolve, 30)); // the row waits in the outbox
    const envelope = readRow(row);
    const received = client.nextMessage();
    const before = Date.now();
    await delivery.deliver(
      envelope,
      () => {
        telemetry.logger.info('pushing event to socket');
        return sendAsync(accepted.socket, JSON.stringify(envelope));
      },
      { attributes: { 'ws.connection_id': 'u_42' } },
    );
    const after = Date.now();

    // The browser gets the envelope unchanged, trace context included.
    expect(JSON.parse(await received)).toEqual(envelope);

    // outbox.append belongs to the request's trace, and the envelope carries its context.
    expect(append.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(append.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(parseTraceParent(envelope._trace?.traceparent)).toMatchObject({
      traceId: append.spanContext().traceId,
      spanId: append.spanContext().spanId,
    });

    // WS send: a PRODUCER span of its own trace, linked back to outbox.append.
    const sends = spanNamed(SPAN_NAMES.wsSend.name);
    expect(sends).toHaveLength(1);
    const send = sends[0]!;
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext).toBeUndefined();
    expect(send.spanContext().traceId).not.toBe(request.spanContext().traceId);
    expect(send.links.map((l) => l.context)).toEqual([
      expect.objectContaining({
        traceId: request.spanContext().traceId,
        spanId: append.spanContext().spanId,
      }),
    ]);
    expect(send.status.code).toBe(SpanStatusCode.UNSET);
    const lagMs = send.attributes['event.delivery_lag_ms'] as number;
    expect(send.attributes).toMatchObject({
      'event.type': 'coach.reflection',
      'event.id': '17',
      'event.channel': 'ws',
      'ws.connection_id': 'u_42',
    });
    // outboxTs → after the frame was written, which includes the time the row waited.
    expect(before - envelope.outboxTs).toBeGreaterThanOrEqual(25);
    expect(lagMs).toBeGreaterThanOrEqual(before - envelope.outboxTs);
    expect(lagMs).toBeLessThanOrEqual(after - envelope.outboxTs);

    // The histogram holds that one observation, in the exposition too.
    expect(
      telemetry.metrics.eventDeliveryLagMs.read({ channel: 'ws', type: 'coach.reflection' }),
    ).toMatchObject({
      count: 1,
      sum: lagMs,
    });
    expect(await exposition('event_delivery_lag_ms_count')).toEqual([
      { labels: { service: 'edge', channel: 'ws', type: 'coach.reflection' }, value: 1 },
    ]);
    expect(await exposition('event_delivery_lag_ms_sum')).toEqual([
      { labels: { service: 'edge', channel: 'ws', type: 'coach.reflection' }, value: lagMs },
    ]);
    expect(await exposition('event_outbox_writes_total')).toEqual([
      { labels: { service: 'edge', type: 'coach.reflection' }, value: 1 },
    ]);

    // A line logged during the send carries the event id and the send span.
    const line = logs.lines().find((l) => l.msg === 'pushing event to socket');
    expect(line).toMatchObject({
      eventId: '17',
      traceId: send.spanContext().traceId,
      spanId: send.spanContext().spanId,
    });
  });

  it('fans one event out to every open socket: one linked WS send and one lag sample per socket', async () => {
    const server = await startWsServer();
    const pairs = await Promise.all(['a', 'b', 'c'].map((id) => server.connect(id)));
    const delivery = createEventDelivery(telemetry, { channel: 'ws' });
    const { row, append } = await writeEvent('t_7');
    const envelope = readRow(row);
    const received = pairs.map((p) => p.client.nextMessage());

    await Promise.all(
      pairs.map((p) =>
        delivery.deliver(envelope, () => sendAsync(p.server.socket, JSON.stringify(envelope))),
      ),
    );

    expect((await Promise.all(received)).map((m) => JSON.parse(m) as unknown)).toEqual([
      envelope,
      envelope,
      envelope,
    ]);
    const sends = spanNamed('WS send');
    expect(sends).toHaveLength(3);
    expect(new Set(sends.map((s) => s.spanContext().traceId)).size).toBe(3);
    for (const send of sends) {
      expect(send.links).toHaveLength(1);
      expect(send.links[0]!.context.spanId).toBe(append.spanContext().spanId);
    }
    expect(
      telemetry.metrics.eventDeliveryLagMs.read({ channel: 'ws', type: 'coach.reflection' }).count,
    ).toBe(3);
    expect(
      telemetry.metrics.eventDeliveryLagMs.read({ channel: 'sse', type: 'coach.reflection' }).count,
    ).toBe(0);
  });

  it('records no lag for a send to a socket that is gone, and rethrows ws’s error as is', async () => {
    const server = await startWsServer();
    const { client, server: accepted } = await server.connect('gone');
    const delivery = createEventDelivery(telemetry, { channel: 'ws' });
    const { row } = await writeEvent('t_9');
    client.ws.terminate();
    await accepted.closed;

    let thrown: unknown;
    try {
      await delivery.deliver(readRow(row), () => sendAsync(accepted.socket, row.body));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toMatch(/WebSocket is not open/);

    const [send] = spanNamed('WS send');
    expect(send!.status).toMatchObject({
      code: SpanStatusCode.ERROR,
      message: (thrown as Error).message,
    });
    expect(send!.events.map((e) => e.name)).toContain('exception');
    expect(send!.attributes['event.delivery_lag_ms']).toBeUndefined();
    expect(
      telemetry.metrics.eventDeliveryLagMs.read({ channel: 'ws', type: 'coach.reflection' }).count,
    ).toBe(0);
    expect(active()).toBe(0);
    expect(await droppedByReason()).toEqual({ abnormal: 1 });
    expect(await exposition('http_requests_total')).toEqual([]);
    expect(logs.lines()).toEqual([]);
  });
});
