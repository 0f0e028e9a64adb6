/**
 * AI Coach (S5) on Fastify: three endpoints the workers call for every
 * trade they score. The model is a stand-in (a few lines of arithmetic);
 * the latency and the error rate are knobs, so that the demo can show what
 * a slow or failing AI service looks like from the other stacks.
 *
 * What stacklight adds here is two lines, `init()` and the plugin: each
 * request continues the caller's trace (`traceparent`), gets
 * `http_requests_total` / `http_request_duration_seconds{route}` and one log
 * line, and `/metrics` serves the exposition.
 *
 * Environment: PORT, AI_LATENCY_MS (added to /v1/nlg/reflect, default 300),
 * AI_ERROR_RATE (share of requests answered 503, default 0).
 * Run alone:  PORT=8000 node --import tsx examples/demo/ai-coach.ts
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { init } from 'stacklight';
import { stacklightPlugin } from 'stacklight/fastify';
import { announcePort } from './shared.js';

const telemetry = init({ service: 'ai-coach', shutdown: { handleSignals: true } });
const latencyMs = Number(process.env.AI_LATENCY_MS ?? 300);
const errorRate = Number(process.env.AI_ERROR_RATE ?? 0);

const app = Fastify();
await app.register(stacklightPlugin, { telemetry, metricsEndpoint: true, healthEndpoint: true });

interface Trade {
  id: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: number;
  qty: number;
}

/** Every endpoint: the configured share of requests fails as an overloaded model would. */
app.addHook('preHandler', async (_request, reply) => {
  if (Math.random() < errorRate) return reply.code(503).send({ error: 'model overloaded' });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Latency around `ms`: ±30 %, and one call in 20 three times slower (a long generation). */
const jitter = (ms: number) => ms * (0.7 + Math.random() * 0.6) * (Math.random() < 0.05 ? 3 : 1);

app.post('/v1/indicators', async (request) => {
  const { symbol } = request.body as { symbol: string };
  await sleep(jitter(20));
  const seed = [...symbol].reduce((sum, c) => sum + c.charCodeAt(0), 0);
  return { symbol, rsi: 30 + (seed % 40), atr: 1 + (seed % 7) / 10 };
});

app.post('/v1/bias/score', async (request) => {
  const { trade, indicators } = request.body as { trade: Trade; indicators: { rsi: number } };
  await sleep(jitter(40));
  const tags: string[] = [];
  if (indicators.rsi > 60 && trade.side === 'buy') tags.push('fomo');
  if (indicators.rsi < 40 && trade.side === 'sell') tags.push('panic_sell');
  if (trade.qty * trade.price > 5_000) tags.push('oversized');
  return { tradeId: trade.id, tags: tags.length > 0 ? tags : ['disciplined'] };
});

const LINES: Record<string, string> = {
  fomo: 'You bought into strength after a run-up. Was the entry in your plan?',
  panic_sell: 'You sold into weakness. Did the thesis change, or only the price?',
  oversized: 'This position is larger than your usual size.',
  disciplined: 'This trade followed your rules. Nice.',
};

app.post('/v1/nlg/reflect', async (request) => {
  const { tradeId, tags } = request.body as { tradeId: string; tags: string[] };
  await sleep(jitter(latencyMs));
  // Log fields are the schema's; the text itself is user content and stays out of the log.
  telemetry.logger.debug({ eventId: tradeId }, 'reflection generated');
  return { tradeId, text: tags.map((tag) => LINES[tag] ?? tag).join(' ') };
});

await app.listen({ port: Number(process.env.PORT ?? 8000), host: '127.0.0.1' });
telemetry.onShutdown('close', 'http-server', () => app.close());
announcePort((app.server.address() as AddressInfo).port);
