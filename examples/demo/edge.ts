/**
 * Edge (S2) on Fastify: the product's public REST API and the WebSocket
 * that delivers coach bubbles.
 *
 * - every route is a server span continuing the browser's trace, with
 *   `http_requests_total` / `http_request_duration_seconds{route}` by route
 *   template and one log line (with `userId`, never the password);
 * - calls to Core go through a service client: a CLIENT span whose
 *   `traceparent` Core continues;
 * - Core's outbox arrives over SSE (`subscribeToEvents`: reconnects with
 *   Last-Event-ID, `sse_stream_lag_seconds`, `sse_reconnects_total`) and each
 *   event is sent to the user's sockets through the delivery helper: one
 *   `WS send` span linked to the `outbox.append` that wrote it, and one
 *   `event_delivery_lag_ms{channel="ws"}` sample — the reflect SLO's SLI;
 * - `ws_active_connections` / `ws_dropped_connections_total{reason}` come
 *   from `instrumentWebSocketServer`.
 *
 * Environment: PORT, CORE_URL.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyReply } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import {
  createEventDelivery,
  createServiceClient,
  init,
  instrumentWebSocketServer,
  subscribeToEvents,
  type EventEnvelope,
} from 'stacklight';
import { stacklightPlugin } from 'stacklight/fastify';
import { announcePort } from './shared.js';

const CORE_URL = process.env.CORE_URL ?? 'http://127.0.0.1:3002';
const telemetry = init({ service: 'edge', shutdown: { handleSignals: true } });

const app = Fastify();
await app.register(stacklightPlugin, {
  telemetry,
  metricsEndpoint: true,
  healthEndpoint: true,
  userId: (request) => userOf(request.headers),
});

// Edge → Core: traced; Core measures its own requests.
const core = createServiceClient(telemetry, {
  service: 'core',
  baseUrl: CORE_URL,
  timeoutMs: 3000,
});

/** POSTs `body` to Core and answers with Core's status and body. */
async function forward(path: string, body: unknown, reply: FastifyReply): Promise<FastifyReply> {
  const res = await core.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    urlTemplate: path, // the client span is `POST /internal/…`
  });
  return reply.code(res.status).send(await res.json());
}

app.post('/v1/login', (request, reply) => forward('/internal/sessions', request.body, reply));

app.post('/v1/imports', (request, reply) =>
  forward(
    '/internal/imports',
    { ...(request.body as object), userId: userOf(request.headers) },
    reply,
  ),
);

// An import's progress (what the import probe polls).
app.get('/v1/imports/:id', async (request, reply) => {
  const { id } = request.params as { id: string };
  const res = await core.fetch(`/internal/imports/${encodeURIComponent(id)}`, {
    urlTemplate: '/internal/imports/:id',
  });
  return reply.code(res.status).send(await res.json());
});

app.post('/v1/simulations', (request, reply) =>
  forward(
    '/internal/simulations',
    { ...(request.body as object), userId: userOf(request.headers) },
    reply,
  ),
);

app.post('/v1/trades/:id/reflect', (request, reply) => {
  const { trade } = request.body as { trade: unknown };
  return forward('/internal/reflections', { userId: userOf(request.headers), trade }, reply);
});

// The coach WebSocket. It lives for minutes: its upgrade request gets no
// request span, line or metric (it would end as a 499 "aborted").
await app.register(fastifyWebsocket);
app.addHook('onReady', async () => {
  instrumentWebSocketServer(telemetry, app.websocketServer);
});
const socketsByUser = new Map<string, Set<WebSocket>>();
app.get('/v1/coach', { websocket: true, config: { stacklight: false } }, (socket, request) => {
  const userId = userOf(request.headers);
  const sockets = socketsByUser.get(userId) ?? new Set();
  socketsByUser.set(userId, sockets.add(socket));
  socket.on('close', () => sockets.delete(socket));
});

const delivery = createEventDelivery(telemetry, { channel: 'ws' });
/** One `WS send` per open socket of the event's user. */
async function fanOut(envelope: EventEnvelope): Promise<void> {
  const { userId } = envelope.payload as { userId?: string };
  const open = [...(socketsByUser.get(userId ?? '') ?? [])].filter((s) => s.readyState === s.OPEN);
  await Promise.allSettled(
    open.map((socket) =>
      delivery.deliver(envelope, () => sendFrame(socket, JSON.stringify(envelope))),
    ),
  );
}

const subscription = subscribeToEvents(telemetry, {
  url: `${CORE_URL}/internal/events/subscribe`,
  idleTimeoutMs: 45_000, // above Core's heartbeat interval
  onEvent: (envelope) => fanOut(envelope),
});
telemetry.onShutdown('drain', 'core-events', () => subscription.close());

/** `socket.send` as a promise: the lag is taken once the frame is written, a failed send is an error. */
function sendFrame(socket: WebSocket, data: string): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(data, (error) => (error ? reject(error) : resolve())),
  );
}

/** Stands in for the session check: the opaque user id the session belongs to. */
function userOf(headers: IncomingHttpHeaders): string {
  return typeof headers['x-user-id'] === 'string' ? headers['x-user-id'] : 'anonymous';
}

await app.listen({ port: Number(process.env.PORT ?? 3001), host: '127.0.0.1' });
telemetry.onShutdown('close', 'http-server', () => app.close());
announcePort((app.server.address() as AddressInfo).port);
