/**
 * What the demo's services share: job data shapes, queue names, the Redis
 * connection and the AI Coach calls that turn a trade into a reflection.
 * Plain product code; stacklight appears only through its public API.
 */
import type { Telemetry } from 'stacklight';
import { createAiCoachClient } from 'stacklight';

/** One trade as the broker returns it (trimmed). */
export interface Trade {
  id: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: number;
  qty: number;
}

/** Data of the jobs (Core → Workers); `userId` is an opaque id, never an e-mail. */
export interface ImportJob {
  userId: string;
  broker: 'binance';
  symbol: string;
  pages: number;
}
export interface ScoreJob {
  userId: string;
  trade: Trade;
}
export interface SimJob {
  userId: string;
  symbol: string;
  paths: number;
}
export interface DigestJob {
  week: string;
}

/**
 * Tells the parent process, when it started this service with an IPC
 * channel (a test, a runner), the port the service listens on: with PORT=0
 * (or STACKLIGHT_METRICS_PORT=0) the system picks a free one.
 */
export function announcePort(port: number | undefined): void {
  process.send?.({ type: 'listening', port });
}

/** The queues, by the spec's names. */
export const QUEUES = {
  import: 'q_import',
  score: 'q_score',
  sim: 'q_sim',
  digest: 'q_digest',
} as const;

/**
 * BullMQ connection and key prefix from REDIS_URL and BULLMQ_PREFIX, or
 * undefined when the demo runs without Redis (no REDIS_URL).
 */
export function queueSettings():
  | { connection: { host: string; port: number; maxRetriesPerRequest: null }; prefix: string }
  | undefined {
  if (!process.env.REDIS_URL) return undefined;
  const url = new URL(process.env.REDIS_URL);
  return {
    connection: { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null },
    prefix: process.env.BULLMQ_PREFIX ?? 'bull',
  };
}

/** What the coach says about one trade; `text` is absent when the AI Coach could not answer. */
export interface Coaching {
  tags: string[];
  text: string | undefined;
}

/**
 * The three AI Coach calls for one trade: `indicators`, `bias.score`,
 * `nlg.reflect` CLIENT spans, children of the active span, and
 * `ai_request_total` / `ai_request_duration_ms` / `ai_request_errors_total{reason}`.
 */
export function createCoach(telemetry: Telemetry): (trade: Trade) => Promise<Coaching> {
  const ai = createAiCoachClient(telemetry, {
    baseUrl: process.env.AI_COACH_URL ?? 'http://127.0.0.1:8000',
    timeoutMs: Number(process.env.AI_TIMEOUT_MS ?? 3000),
  });
  return async function coach(trade) {
    const indicators = await ai.postJson('/v1/indicators', { symbol: trade.symbol });
    if (!indicators.ok) return { tags: [], text: undefined };
    const bias = await ai.postJson('/v1/bias/score', {
      trade,
      indicators: await indicators.json(),
    });
    const { tags } = bias.ok ? ((await bias.json()) as { tags: string[] }) : { tags: [] };
    const reflection = await ai.postJson('/v1/nlg/reflect', { tradeId: trade.id, tags });
    if (!reflection.ok) return { tags, text: undefined };
    return { tags, text: ((await reflection.json()) as { text: string }).text };
  };
}
