import { checkOption, int, ms, MAX_TIMER_MS, type Kind } from '../config/kinds.js';
import { ConfigError } from '../errors.js';
import type { EventEnvelope } from './envelope.js';

/** The `fetch` the subscriber calls. */
export type SubscriberFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Why the stream was lost: the `reason` label of `sse_reconnects_total`. */
export type SseLostReason = 'ended' | 'network' | 'http_error' | 'idle_timeout';

/** Why an event was dropped: the `reason` label of `sse_dropped_events_total`. */
export type SseDropReason = 'malformed' | 'too_large' | 'handler_error';

/** What the handler gets besides the envelope. */
export interface SseEventMeta {
  /** The SSE `id:` in effect (the outbox row id), if any. */
  readonly id: string | undefined;
  /** The SSE `event:` field (`message` when absent). */
  readonly event: string;
  /** True while the events replayed after a reconnect are coming in. */
  readonly replay: boolean;
  /** Receive time − `outboxTs`, in ms (`undefined` without a valid `outboxTs`). */
  readonly lagMs: number | undefined;
}

/** Options of {@link subscribeToEvents}. */
export interface SseSubscriberOptions {
  /** The stream URL (`http://core:3000/internal/events/subscribe`). */
  url: string | URL;
  /**
   * Called for each event, one at a time, in order (a returned promise is
   * awaited before the next event is read, so a slow handler slows the
   * stream rather than filling memory). A throw counts the event as dropped
   * (`handler_error`) and the stream goes on. Runs in a fresh context (the
   * `events.replay` span while replaying), so a `WS send` started here does
   * not become part of an unrelated trace.
   */
  onEvent(envelope: EventEnvelope, meta: SseEventMeta): void | Promise<void>;
  /** Resume after this event id (a `Last-Event-ID` persisted across restarts). */
  lastEventId?: string;
  /** Headers of every connect (a service token). */
  headers?: Record<string, string>;
  /** @default globalThis.fetch */
  fetch?: SubscriberFetch;
  /**
   * First reconnect delay in ms; doubles per failed attempt (±20 % jitter) up
   * to `maxReconnectDelayMs`. A `retry:` field from the server replaces it.
   * @default 1000
   */
  reconnectDelayMs?: number;
  /** @default 30000 */
  maxReconnectDelayMs?: number;
  /**
   * Reconnect when nothing (not even a `:` heartbeat comment) arrives for
   * this long, to detect half-open connections. Set it above Core's
   * heartbeat interval. `0` turns it off.
   * @default 0 (off)
   */
  idleTimeoutMs?: number;
  /**
   * The replay after a reconnect is over when an event written after the
   * reconnect arrives, or when no event arrives for this long.
   * @default 250
   */
  replayQuietMs?: number;
  /**
   * Largest event (data or line) buffered, in UTF-16 code units; larger ones
   * are dropped (`too_large`).
   * @default 1048576
   */
  maxEventSize?: number;
  /** Clock of the lag, in ms since the epoch. @default Date.now */
  now?: () => number;
}

/** A running subscription. */
export interface SseSubscription {
  /** The last event id seen (sent as `Last-Event-ID` on reconnect). */
  readonly lastEventId: string | undefined;
  /** True while a stream is open. */
  readonly connected: boolean;
  /** Stops reading and reconnecting; resolves once the loop has ended. Idempotent. */
  close(): Promise<void>;
}

/** Defaults of {@link SseSubscriberOptions}. */
export const SSE_SUBSCRIBER_DEFAULTS = {
  reconnectDelayMs: 1000,
  maxReconnectDelayMs: 30_000,
  idleTimeoutMs: 0,
  replayQuietMs: 250,
  maxEventSize: 1_048_576,
} as const;

/** Options after defaults and validation. */
export type SseSettings = { [K in keyof typeof SSE_SUBSCRIBER_DEFAULTS]: number } & {
  now: () => number;
  fetch: SubscriberFetch;
  url: string;
};

/** Validates the options once, at subscribe time, naming a wrong one. */
export function resolveSseOptions(options: SseSubscriberOptions): SseSettings {
  if (options === null || typeof options !== 'object') {
    throw new ConfigError('sseSubscriber', options, 'an options object with url and onEvent');
  }
  let url: URL | undefined;
  try {
    url = new URL(String(options.url));
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError('sseSubscriber.url', options.url, 'an absolute http(s) URL');
  }
  if (typeof options.onEvent !== 'function') {
    throw new ConfigError('sseSubscriber.onEvent', options.onEvent, 'a function');
  }
  const option = (key: keyof typeof SSE_SUBSCRIBER_DEFAULTS, kind: Kind<number>): number =>
    checkOption(`sseSubscriber.${key}`, options[key] ?? SSE_SUBSCRIBER_DEFAULTS[key], kind);
  return {
    url: url.href,
    reconnectDelayMs: option('reconnectDelayMs', ms()),
    maxReconnectDelayMs: option('maxReconnectDelayMs', ms()),
    idleTimeoutMs: option('idleTimeoutMs', ms()),
    replayQuietMs: option('replayQuietMs', ms()),
    maxEventSize: option('maxEventSize', int(1, MAX_TIMER_MS)),
    now: options.now ?? Date.now,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
  };
}
