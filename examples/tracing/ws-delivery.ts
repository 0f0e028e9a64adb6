/**
 * Edge's WebSocket side on a plain `ws` server (docs/tracing.md § 6): every
 * connection is tracked (`ws_active_connections`,
 * `ws_dropped_connections_total{reason}`), and each event goes to the open
 * sockets of its user through the delivery helper — one `WS send` span,
 * linked to the `outbox.append` span the envelope carries, and one
 * `event_delivery_lag_ms{channel="ws"}` sample per socket.
 *
 * The code samples of docs/tracing.md are the `#region`s of this file (a
 * region may come in parts, such as its imports; the docs join them).
 *
 * Run:
 *   node --import tsx examples/tracing/ws-delivery.ts
 *     serves ws://localhost:3001/?user=u_42 and pushes it a reflection every 5 s;
 *   node --import tsx examples/tracing/ws-delivery.ts --once
 *     writes one event, delivers it to a client of its own, prints the
 *     metrics exposition and exits (what test/examples runs).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { createOutbox, init, withSpan } from 'stacklight';
import type { CoachReflection } from './types.js';
import { sendFrame } from './ws-send.js';
// #region ws-server
import { WebSocket, WebSocketServer } from 'ws';
import { createEventDelivery, instrumentWebSocketServer, type EventEnvelope } from 'stacklight';
// #endregion

const telemetry = init({
  service: 'edge',
  // No collector in the example: print spans (OTEL_TRACES_EXPORTER=otlp to export, none for quiet).
  tracing: { exporter: process.env.OTEL_TRACES_EXPORTER ? undefined : 'console' },
  shutdown: { handleSignals: true },
});
const server = createServer();

// #region ws-server
const wss = new WebSocketServer({ server });
instrumentWebSocketServer(telemetry, wss); // ws_active_connections, ws_dropped_connections_total
const delivery = createEventDelivery(telemetry, { channel: 'ws' });
const socketsByUser = new Map<string, Set<WebSocket>>();

wss.on('connection', (socket, request) => {
  // A real Edge authenticates the upgrade; the example takes ?user=.
  const userId = new URL(request.url ?? '/', 'ws://edge').searchParams.get('user') ?? 'anonymous';
  const sockets = socketsByUser.get(userId) ?? new Set();
  socketsByUser.set(userId, sockets.add(socket));
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', (err) => telemetry.logger.warn({ err }, 'websocket error'));
});

/** One `WS send` per open socket of the event's user; a failed send is on its span. */
async function fanOut(envelope: EventEnvelope<CoachReflection>): Promise<void> {
  const sockets = [...(socketsByUser.get(envelope.payload.userId) ?? [])];
  await Promise.allSettled(
    sockets
      .filter((socket) => socket.readyState === WebSocket.OPEN)
      .map((socket) =>
        delivery.deliver(envelope, () => sendFrame(socket, JSON.stringify(envelope))),
      ),
  );
}
// #endregion

/** What Core does in the journey, here in-process: write the event in a request's trace. */
const outbox = createOutbox(telemetry, { types: ['coach.reflection'] });
let lastId = 0;

function writeReflection(payload: CoachReflection): { id: number; body: string } {
  return withSpan(
    'HTTP /internal/trades/:id/score',
    {},
    () =>
      outbox.append({ type: 'coach.reflection', payload }, (envelope) => {
        telemetry.logger.info({ eventId: String(lastId + 1) }, 'outbox row written');
        return { id: ++lastId, body: JSON.stringify(envelope) }; // the jsonb column
      }),
    { kind: SpanKind.SERVER },
  );
}

/** The row as Edge gets it back (over Core's SSE stream in the journey). */
function readRow(row: { id: number; body: string }): EventEnvelope<CoachReflection> {
  return { ...(JSON.parse(row.body) as EventEnvelope<CoachReflection>), id: String(row.id) };
}

/** `--once`: one event from the outbox to a browser-like client, then the metrics. */
async function roundTrip(url: string): Promise<void> {
  const row = writeReflection({
    userId: 'u_42',
    tradeId: 't_42',
    text: 'You chased the breakout.',
  });
  const accepted = once(wss, 'connection') as Promise<[WebSocket]>;
  const browser = new WebSocket(`${url}/?user=u_42`);
  await once(browser, 'open');
  const [socket] = await accepted;
  const message = once(browser, 'message') as Promise<[Buffer]>;
  await fanOut(readRow(row));
  const [data] = await message;
  telemetry.logger.info(
    { eventId: String(row.id), extra: { message: data.toString('utf8') } },
    'browser received the event',
  );
  // A normal close (1000): the gauge goes back down, no drop is counted.
  const closed = once(socket, 'close');
  browser.close(1000, 'done');
  await closed;
  // What /metrics would show of the event and WebSocket families.
  const text = await telemetry.metricsText();
  const lines = text.split('\n').filter((line) => /^(# \w+ )?(event|ws)_/.test(line));
  process.stdout.write(lines.join('\n') + '\n');
}

function close(): Promise<void> {
  for (const socket of wss.clients) socket.close(1001, 'server going away');
  return new Promise<void>((resolve) => wss.close(() => server.close(() => resolve())));
}
telemetry.onShutdown('close', 'ws-server', close);

server.listen(process.argv.includes('--once') ? 0 : Number(process.env.PORT ?? 3001));
await once(server, 'listening');
const url = `ws://localhost:${(server.address() as AddressInfo).port}`;

if (process.argv.includes('--once')) {
  await roundTrip(url);
  await telemetry.shutdown();
} else {
  telemetry.logger.info(`connect to ${url}/?user=u_42`);
  const demo = setInterval(
    () => void fanOut(readRow(writeReflection({ userId: 'u_42', tradeId: 't_42', text: 'Hi.' }))),
    5000,
  );
  telemetry.onShutdown('drain', 'demo-events', () => clearInterval(demo));
}
