/**
 * Internal barrel of the events room: outbox, delivery (WebSocket / SSE
 * send), WebSocket connection tracking and the SSE subscriber. `src/index.ts`
 * picks what becomes public from here; everything is listed by name.
 */
export { timestampMs } from './envelope.js';
export type { EnvelopeLike, EventEnvelope, EventsTelemetry } from './envelope.js';

export { createOutbox, OTHER_EVENT_TYPE } from './outbox.js';
export type { Outbox, OutboxEvent, OutboxOptions } from './outbox.js';

export { createEventDelivery, SSE_SEND_SPAN_NAME } from './delivery.js';
export type {
  DeliverOptions,
  DeliveryChannel,
  EventDelivery,
  EventDeliveryOptions,
} from './delivery.js';

export { instrumentWebSocketServer, trackWebSocket, wsDropReason } from './ws-connections.js';
export type {
  TrackedWebSocket,
  WebSocketLike,
  WebSocketServerLike,
  WsDropReason,
  WsTrackingOptions,
} from './ws-connections.js';

export { subscribeToEvents } from './sse-subscriber.js';
export { SSE_SUBSCRIBER_DEFAULTS } from './sse-options.js';
export type {
  SseDropReason,
  SseEventMeta,
  SseLostReason,
  SseSubscriberOptions,
  SseSubscription,
  SubscriberFetch,
} from './sse-options.js';

export { SseParser } from './sse-parser.js';
export type { SseMessage, SseParseResult } from './sse-parser.js';
