/**
 * Workers (S4): the `q_import` job. It continues Core's trace from the job
 * data, imports a page of trades from the broker (vendor client), scores
 * each trade with the AI Coach (ai-coach.ts), and writes the reflection and
 * its outbox event in one transaction — the last span of the trace,
 * `outbox.append`, whose context the event carries on to Core and Edge.
 *
 * The code samples of docs/tracing.md are the `#region`s of this file (a
 * region may come in parts, such as its imports; the docs join them).
 *
 * Run (Redis on 127.0.0.1:6379, or REDIS_HOST / REDIS_PORT):
 *   node --import tsx examples/tracing/worker-hop.ts
 */
import { init, SPAN_NAMES, withSpan } from 'stacklight';
import { createCoach } from './ai-coach.js';
import type { BrokerTrade, ImportJob } from './types.js';
// #region job-consumer
import { Worker, type Job } from 'bullmq';
import { instrumentProcessor, instrumentWorker } from 'stacklight/bullmq';
// #endregion
// #region vendor-client
import { createVendorClient } from 'stacklight';
// #endregion
// #region outbox
import { createOutbox } from 'stacklight';
import { db, eventOutbox, reflections } from './db.js';
// #endregion

const telemetry = init({ service: 'workers', shutdown: { handleSignals: true } });
const connection = {
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
};

// #region vendor-client
// Worker → broker: vendor_req_duration_ms{vendor,code}, vendor_429_total{vendor}.
const binance = createVendorClient(telemetry, {
  vendor: 'binance',
  baseUrl: process.env.BINANCE_URL ?? 'https://api.binance.com',
  timeoutMs: 5000,
});

async function fetchTrades(symbol: string): Promise<BrokerTrade[]> {
  const res = await binance.fetch(`/api/v3/myTrades?symbol=${symbol}`, {
    headers: { 'X-MBX-APIKEY': process.env.BINANCE_API_KEY ?? '' },
    urlTemplate: '/api/v3/myTrades', // span "GET /api/v3/myTrades"; never the raw path
  });
  if (!res.ok) throw new Error(`binance answered ${res.status} for ${symbol}`);
  return (await res.json()) as BrokerTrade[];
}
// #endregion

// #region outbox
const outbox = createOutbox(telemetry, { types: ['coach.reflection', 'import.progress'] });
const coach = createCoach(telemetry);

async function scoreTrade(userId: string, trade: BrokerTrade): Promise<void> {
  const { text } = await coach(trade); // spans indicators, bias.score, nlg.reflect
  if (text === undefined) return;
  await db.transaction(async (tx) => {
    await tx.insert(reflections).values({ tradeId: trade.id, text });
    await outbox.append(
      { type: 'coach.reflection', payload: { userId, tradeId: trade.id, text } },
      (envelope) => tx.insert(eventOutbox).values({ type: envelope.type, body: envelope }),
    );
  });
}
// #endregion

// #region job-consumer
// "process q_import" continues the trace of Core's "enqueue q_import" (job.data._trace).
async function importTrades(job: Job<ImportJob>): Promise<{ scored: number }> {
  const trades = await withSpan(SPAN_NAMES.importPage.name, { 'import.page': 1 }, () =>
    fetchTrades(job.data.symbol),
  );
  for (const trade of trades) {
    await withSpan(SPAN_NAMES.scoreTrade.name, { 'trade.id': trade.id }, () =>
      scoreTrade(job.data.userId, trade),
    );
  }
  return { scored: trades.length };
}

const worker = new Worker('q_import', instrumentProcessor(telemetry, importTrades), { connection });
instrumentWorker(telemetry, worker, { closeOnShutdown: true });
// #endregion
