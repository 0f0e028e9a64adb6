/**
 * Workers → AI Coach (S4 → S5): the three calls that turn a trade into a
 * reflection, through stacklight's AI Coach client (docs/tracing.md § 2).
 *
 * Each call is a CLIENT span named after the endpoint (`indicators`,
 * `bias.score`, `nlg.reflect`), a child of whatever span is active (the
 * worker's `score.trade`), and its `traceparent` goes to the AI Coach, whose
 * own server span continues the trace.
 */
import type { Telemetry } from 'stacklight';
import type { BrokerTrade } from './types.js';

// #region ai-client
import { createAiCoachClient } from 'stacklight';

/** What the coach says about one trade; `text` is absent when the AI Coach could not answer. */
export interface Coaching {
  tags: string[];
  text: string | undefined;
}

export function createCoach(telemetry: Telemetry): (trade: BrokerTrade) => Promise<Coaching> {
  // ai_request_total, ai_request_duration_ms, ai_request_errors_total{reason}.
  const ai = createAiCoachClient(telemetry, {
    baseUrl: process.env.AI_COACH_URL ?? 'http://localhost:8000',
    timeoutMs: 3000,
  });

  return async function coach(trade) {
    const indicators = await ai.postJson('/v1/indicators', { symbol: trade.symbol }); // "indicators"
    const bias = await ai.postJson('/v1/bias/score', {
      trade,
      indicators: indicators.ok ? await indicators.json() : null,
    }); // "bias.score"
    const { tags } = bias.ok ? ((await bias.json()) as { tags: string[] }) : { tags: [] };
    const reflection = await ai.postJson('/v1/nlg/reflect', { tradeId: trade.id, tags }); // "nlg.reflect"
    // A 4xx/5xx resolves like fetch (and is already counted): fall back to the tags alone.
    // A timeout or network error rejects with fetch's own error, and the job retries.
    if (!reflection.ok) return { tags, text: undefined };
    return { tags, text: ((await reflection.json()) as { text: string }).text };
  };
}
// #endregion
