/**
 * Edge (S2) on Fastify: where the journey starts and where it ends.
 *
 * - `POST /trades/import` runs inside the plugin's server span and calls
 *   Core through the service client, which carries the trace on;
 * - Core's event stream (SSE) is consumed with `subscribeToEvents`, and each
 *   event is pushed to the user's WebSockets (@fastify/websocket) through
 *   the delivery helper: one `WS send` span, linked to the trace that wrote
 *   the event, and one `event_delivery_lag_ms{channel="ws"}` sample per socket.
 *
 * The code samples of docs/tracing.md are the `#region`s of this file (a
 * region may come in parts, such as its imports; the docs join them).
 *
 * Run (Core from core.ts on :3002):
 *   node --import tsx examples/tracing/edge.ts
 * then   curl -X POST localhost:3001/trades/import -H 'content-type: application/json' \
 *          -d '{"userId":"u_42","broker":"binance","symbol":"BTCUSDT"}'
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { WebSocket } from 'ws';
import { sendFrame } from './ws-send.js';
// #region http-in
import Fastify from 'fastify';
import { init } from 'stacklight';
import { stacklightPlugin } from 'stacklight/fastify';
// #endregion
// #region service-client
import { createServiceClient } from 'stacklight';
// #endregion
// #region sse-subscribe
import { subscribeToEvents } from 'stacklight';
// #endregion
// #region ws-fastify
import fastifyWebsocket from '@fastify/websocket';
import { createEventDelivery, instrumentWebSocketServer, type EventEnvelope } from 'stacklight';
// #endregion

const CORE_URL = process.env.CORE_URL ?? 'http://localhost:3002';

// #region http-in
const telemetry = init({ service: 'edge', shutdown: { handleSignals: true } });
const app = Fastify();
await app.register(stacklightPlugin, { telemetry });
// #endregion

// #region service-client
// Edge → Core: traced, no metrics (Core measures itself).
const core = createServiceClient(telemetry, {
  service: 'core',
  baseUrl: CORE_URL,
  timeoutMs: 2000,
});

app.post('/trades/import', async (request, reply) => {
  // "HTTP /trades/import" is the active span: the client span is its child.
  const res = await core.fetch('/internal/imports', {
    method: 'POST',
    urlTemplate: '/internal/imports',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request.body),
  });
  return reply.code(res.status).send(await res.json());
});
// #endregion

// #region ws-fastify
await app.register(fastifyWebsocket);
// Every socket of the server: ws_active_connections, ws_dropped_connections_total{reason}.
app.addHook('onReady', async () => {
  instrumentWebSocketServer(telemetry, app.websocketServer);
});
const delivery = createEventDelivery(telemetry, { channel: 'ws' });
const socketsByUser = new Map<string, Set<WebSocket>>();

// A socket lives for hours: like the SSE stream, its upgrade request gets no
// request span, line or metric (with them it would end as a 499 "aborted").
app.get('/ws', { websocket: true, config: { stacklight: false } }, (socket, request) => {
  const userId = authenticate(request.headers);
  const sockets = socketsByUser.get(userId) ?? new Set();
  socketsByUser.set(userId, sockets.add(socket));
  socket.on('close', () => sockets.delete(socket));
});

/** One `WS send` per open socket of the event's user; a failed send is on its span. */
async function fanOut(envelope: EventEnvelope): Promise<void> {
  const { userId } = envelope.payload as { userId: string };
  const open = [...(socketsByUser.get(userId) ?? [])].filter((s) => s.readyState === s.OPEN);
  await Promise.allSettled(
    open.map((socket) =>
      delivery.deliver(envelope, () => sendFrame(socket, JSON.stringify(envelope))),
    ),
  );
}
// #endregion

// #region sse-subscribe
const subscription = subscribeToEvents(telemetry, {
  url: `${CORE_URL}/internal/events/subscribe`,
  idleTimeoutMs: 45_000, // above Core's heartbeat interval
  onEvent: (envelope) => fanOut(envelope), // one WS send per socket, see 6
});
telemetry.onShutdown('drain', 'core-events', () => subscription.close());
// #endregion

/** Stands in for the session check of the upgrade request. */
function authenticate(headers: IncomingHttpHeaders): string {
  return typeof headers['x-user-id'] === 'string' ? headers['x-user-id'] : 'u_42';
}

await app.listen({ port: Number(process.env.PORT ?? 3001), host: '0.0.0.0' });
telemetry.onShutdown('close', 'http-server', () => app.close());
