/**
 * Edge (S2) under traffic, for the Prometheus end-to-end test: Fastify with
 * the stacklight plugin (login, the AI Coach endpoints, a vendor endpoint),
 * a WebSocket server fed by an SSE subscriber of a Core-like event stream.
 * It loads itself: logins, WebSocket clients that come and go (some cut),
 * reflections pushed through the stream. Faults (POST /fault/<name>):
 * `login-5xx` fails most logins, `reflect-slow` makes WebSocket reflections
 * 5 s late while the SSE path stays fast.
 * Prints `READY <port>` when listening. Run: node --import tsx edge.ts
 */
import Fastify from 'fastify';
import { WebSocket, WebSocketServer } from 'ws';
import { stacklightPlugin } from '../../../src/fastify.js';
import {
  createEventDelivery,
  init,
  instrumentWebSocketServer,
  subscribeToEvents,
} from '../../../src/index.js';
import { startSseServer } from '../../events/sse-server.js';

const telemetry = init({
  service: 'edge',
  env: 'e2e',
  logging: { level: 'warn' },
  metrics: { defaultMetrics: false },
  tracing: { enabled: false },
});
const faults = new Set<string>();
const app = Fastify();
await app.register(stacklightPlugin, { telemetry, metricsEndpoint: true });
let logins = 0;
app.post('/login', async (_req, reply) => {
  logins++;
  if (faults.has('login-5xx') && logins % 4 !== 0) return reply.code(503).send({ error: 'down' });
  return { ok: true };
});
app.post('/fault/:name', async (req) => {
  faults.add((req.params as { name: string }).name);
  return { faults: [...faults] };
});
let aiCalls = 0;
for (const path of ['/v1/indicators', '/v1/bias/score', '/v1/nlg/reflect'])
  app.post(path, async (_req, reply) => {
    // One call in nine fails: AI error series exist.
    if (++aiCalls % 9 === 0) return reply.code(500).send({ error: 'model' });
    return { ok: true };
  });
let vendorCalls = 0;
app.get('/vendor/:name', async (_req, reply) => {
  vendorCalls++;
  if (vendorCalls % 7 === 0) return reply.code(429).send();
  if (vendorCalls % 11 === 0) return reply.code(404).send();
  return { ok: true };
});
await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as { port: number }).port;

// WebSockets: every connection tracked; reflections delivered to each.
const wss = new WebSocketServer({ server: app.server, path: '/ws' });
instrumentWebSocketServer(telemetry, wss);
const ws = createEventDelivery(telemetry, { channel: 'ws', types: ['coach.reflection'] });
const sse = createEventDelivery(telemetry, { channel: 'sse', types: ['coach.reflection'] });

// Core's stream (in-process stand-in) and Edge's subscriber of it.
const core = await startSseServer();
subscribeToEvents(telemetry, {
  url: core.url,
  reconnectDelayMs: 50,
  onEvent: (envelope) => {
    // The SSE hop is fast; with `reflect-slow` the WebSocket send is 5 s late.
    sse.deliver(envelope, () => undefined);
    const late = faults.has('reflect-slow');
    for (const client of wss.clients)
      ws.deliver(envelope, () => client.send(JSON.stringify(envelope)), {
        ...(late ? { outboxTs: Date.now() - 5000 } : {}),
      });
  },
});

let tick = 0;
const clients: WebSocket[] = [];
const load = setInterval(() => {
  tick++;
  void fetch(`http://127.0.0.1:${port}/login`, { method: 'POST' }).catch(() => undefined);
  if (tick % 5 === 0)
    core.push({ type: 'coach.reflection', outboxTs: Date.now() - 200, payload: { tick } });
  if (tick % 10 === 0) {
    const c = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    c.on('error', () => undefined);
    clients.push(c);
    if (clients.length > 4) {
      const old = clients.shift()!;
      // Every other one is cut (no close frame): a drop.
      if (tick % 20 === 0) old.terminate();
      else old.close(1000);
    }
  }
  if (tick === 40) core.push('not json', true); // a malformed event: dropped
  if (tick === 60) core.cutAll(); // the stream is lost: a reconnect
}, 20);

process.stdout.write(`READY ${port}\n`);
const stop = async () => {
  clearInterval(load);
  for (const c of clients) c.terminate();
  wss.close();
  await core.close();
  await app.close();
  await telemetry.shutdown();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
