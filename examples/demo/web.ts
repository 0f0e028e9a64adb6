/**
 * The Web UI (S1), as traffic: simulated users who log in, keep the coach
 * WebSocket open, ask for reflections on their trades, import trades and
 * run simulations. Each click is a span of its own (the root of the trace
 * the other services continue) and each call to Edge a CLIENT span through
 * a service client, so the traces start where a user's would.
 *
 * The click-to-bubble time of each reflection (request sent → bubble on the
 * WebSocket) is measured here and reported to the demo runner over IPC,
 * with the trace id the bubble's envelope carries (`_trace`).
 *
 * Environment: EDGE_URL, DEMO_USERS (default 6), DEMO_WORKERS ("0": no
 * imports or simulations, the worker stack is not running).
 */
import WebSocket from 'ws';
import {
  createServiceClient,
  init,
  parseTraceParent,
  withSpan,
  type EventEnvelope,
} from 'stacklight';

const EDGE_URL = process.env.EDGE_URL ?? 'http://127.0.0.1:3001';
const withWorkers = process.env.DEMO_WORKERS !== '0';
const telemetry = init({ service: 'web', shutdown: { handleSignals: true } });
const edge = createServiceClient(telemetry, {
  service: 'edge',
  baseUrl: EDGE_URL,
  timeoutMs: 5000,
});

/** What the runner reads every second. */
const stats = {
  actions: {} as Record<string, { ok: number; failed: number }>,
  reflectMs: [] as number[],
  bubbles: [] as { traceId: string; ms: number }[],
};
const pending = new Map<string, number>(); // tradeId → click time

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'ADAUSDT'];
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One user action: a root span around one call to Edge, counted by outcome. */
async function click(userId: string, action: string, path: string, body: unknown): Promise<void> {
  const counts = (stats.actions[action] ??= { ok: 0, failed: 0 });
  try {
    const res = await withSpan(`click ${action}`, { 'user.action': action }, () =>
      edge.fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': userId },
        body: JSON.stringify(body),
        urlTemplate: path.replace(/\/trades\/[^/]+\//, '/trades/:id/'),
      }),
    );
    await res.arrayBuffer();
    counts[res.ok ? 'ok' : 'failed']++;
  } catch {
    counts.failed++;
  }
}

/** The coach WebSocket of one user; reconnects when Edge drops it. */
function openCoach(userId: string): void {
  if (stopping) return;
  const socket = new WebSocket(`${EDGE_URL.replace(/^http/, 'ws')}/v1/coach`, {
    headers: { 'x-user-id': userId },
  });
  socket.on('message', (data) => {
    const envelope = JSON.parse(String(data)) as EventEnvelope<{ tradeId?: string }>;
    const sent = pending.get(envelope.payload.tradeId ?? '');
    if (envelope.type !== 'coach.reflection' || sent === undefined) return;
    pending.delete(envelope.payload.tradeId!);
    const ms = Date.now() - sent;
    stats.reflectMs.push(ms);
    const traceId = parseTraceParent(envelope._trace?.traceparent ?? '')?.traceId;
    if (traceId) stats.bubbles.push({ traceId, ms });
  });
  socket.on('error', () => undefined); // 'close' follows
  socket.on('close', () => void sleep(500).then(() => openCoach(userId)));
  sockets.push(socket);
}

/** One simulated user: a loop of actions with human pauses in between. */
async function user(userId: string): Promise<void> {
  openCoach(userId);
  let n = 0;
  while (!stopping) {
    n++;
    // One login in 20 mistypes the password: a 401, not an error of the service.
    await click(userId, 'login', '/v1/login', {
      userId,
      password: Math.random() < 0.05 ? 'wrong' : 'correct horse',
    });
    const trade = {
      id: `${userId}-t${n}`,
      symbol: pick(SYMBOLS),
      side: pick(['buy', 'sell'] as const),
      price: 100 + Math.random() * 100,
      qty: 1 + Math.floor(Math.random() * 60),
    };
    pending.set(trade.id, Date.now());
    await click(userId, 'reflect', `/v1/trades/${trade.id}/reflect`, { trade });
    if (withWorkers && n % 3 === 1)
      await click(userId, 'import', '/v1/imports', {
        broker: 'binance',
        symbol: trade.symbol,
        pages: 3,
      });
    if (withWorkers && n % 2 === 0)
      await click(userId, 'simulate', '/v1/simulations', { symbol: trade.symbol, paths: 2000 });
    await sleep(800 + Math.random() * 1200);
  }
}

let stopping = false;
const sockets: WebSocket[] = [];
const report = setInterval(() => {
  process.send?.({ type: 'web-stats', ...stats });
  stats.reflectMs = [];
  stats.bubbles = [];
}, 1000);
telemetry.onShutdown('drain', 'users', () => {
  stopping = true;
  clearInterval(report);
  process.send?.({ type: 'web-stats', ...stats });
  for (const socket of sockets) socket.close();
});

const users = Number(process.env.DEMO_USERS ?? 6);
for (let i = 1; i <= users; i++) void user(`u_${i}`);
process.send?.({ type: 'web-ready' });
