/**
 * Data shapes of the journey the tracing examples walk through (a trade
 * import ends as a coach reflection on the user's screen). Plain product
 * types: nothing here comes from stacklight.
 */

/** Data of a `q_import` job (Core → Workers). */
export interface ImportJob {
  userId: string;
  broker: 'binance';
  symbol: string;
}

/** One trade as the broker returns it (trimmed). */
export interface BrokerTrade {
  id: string;
  symbol: string;
  side: 'buy' | 'sell';
  price: number;
  qty: number;
}

/** Payload of a `coach.reflection` event (Workers → outbox → Core → Edge → browser). */
export interface CoachReflection {
  userId: string;
  tradeId: string;
  text: string;
}
