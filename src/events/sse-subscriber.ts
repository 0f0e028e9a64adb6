import {
  context,
  diag,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { injectContext } from '../tracing/carriers.js';
import { SPAN_NAMES } from '../tracing/span-names.js';
import {
  internalError,
  timestampMs,
  type EventEnvelope,
  type EventsTelemetry,
} from './envelope.js';
import {
  resolveSseOptions,
  type SseEventMeta,
  type SseLostReason,
  type SseSettings,
  type SseSubscriberOptions,
  type SseSubscription,
} from './sse-options.js';
import { SseParser, type SseMessage } from './sse-parser.js';
import { useMetricFamily } from '../metrics/registry.js';

/**
 * Subscribes to Core's event stream (`/internal/events/subscribe`, S3 → S2)
 * with `fetch`, and reconnects with `Last-Event-ID` when the stream is lost.
 *
 * Telemetry:
 * - `sse_stream_lag_seconds`: receive time − `outboxTs`, per event;
 * - `sse_dropped_events_total{reason}`: `malformed` (not a JSON object),
 *   `too_large`, `handler_error`;
 * - `sse_reconnects_total{reason}`: why the previous stream was lost;
 * - an `events.replay` CLIENT span from each reconnect with a
 *   `Last-Event-ID` until the replayed backlog is through; its context goes
 *   out in the request headers, so Core's server span (and its replay query)
 *   is its child, and the handler of each replayed event runs inside it.
 *
 * Never throws and never rejects: failures are counted and retried.
 *
 * @example
 * const sub = subscribeToEvents(telemetry, {
 *   url: `${process.env.CORE_URL}/internal/events/subscribe`,
 *   onEvent: (envelope) => fanOut(envelope), // delivery.deliver(...) per socket
 * });
 * telemetry.onShutdown('drain', 'sse', () => sub.close());
 */
export function subscribeToEvents(
  telemetry: EventsTelemetry,
  options: SseSubscriberOptions,
): SseSubscription {
  const settings = resolveSseOptions(options);
  useMetricFamily(telemetry.metrics, 'sse');
  return new Subscriber(telemetry, options, settings).start();
}

/** The `events.replay` span of one reconnect. */
interface Replay {
  span: Span;
  ctx: Context;
  /** Wall-clock ms at which the reconnect started: events written later are live. */
  startedAt: number;
  count: number;
  /**
   * `performance.now()` of the last replayed event: the span ends there, not
   * after the quiet wait (the SDK reads a number below the time origin as a
   * `performance.now()` value, on the same clock as the span's start).
   */
  lastAt: number;
  quietTimer: NodeJS.Timeout | undefined;
  ended: boolean;
}

class Subscriber implements SseSubscription {
  lastEventId: string | undefined;
  connected = false;
  private closed = false;
  private attempt = 0;
  private baseDelay: number;
  private current: AbortController | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly telemetry: EventsTelemetry,
    private readonly options: SseSubscriberOptions,
    private readonly settings: SseSettings,
  ) {
    this.lastEventId = options.lastEventId === '' ? undefined : options.lastEventId;
    this.baseDelay = settings.reconnectDelayMs;
  }

  start(): this {
    this.loop = this.run().catch((error: unknown) => {
      internalError(this.telemetry);
      diag.error('stacklight: SSE subscriber stopped unexpectedly', error);
    });
    return this;
  }

  close(): Promise<void> {
    this.closed = true;
    this.current?.abort();
    this.wake?.();
    return this.loop;
  }

  private async run(): Promise<void> {
    let lost: SseLostReason | undefined;
    while (!this.closed) {
      if (lost !== undefined) this.count('sseReconnectsTotal', lost);
      const outcome = await this.connectOnce(lost);
      if (outcome === 'stop' || this.closed) break;
      lost = outcome;
      await this.sleep(this.nextDelay());
    }
    this.connected = false;
  }

  /** One connection: returns why it ended, or `stop` (closed, or HTTP 204 = "do not reconnect"). */
  private async connectOnce(previous: SseLostReason | undefined): Promise<SseLostReason | 'stop'> {
    const controller = new AbortController();
    this.current = controller;
    const replay = this.lastEventId === undefined ? undefined : this.startReplay(previous);
    const headers = new Headers(this.options.headers);
    headers.set('accept', 'text/event-stream');
    headers.set('cache-control', 'no-cache');
    if (this.lastEventId !== undefined) headers.set('last-event-id', this.lastEventId);
    // Only the replay request carries a trace: a live stream lasts hours and
    // belongs to no single trace.
    if (replay !== undefined) injectContext(headers, replay.ctx, 'fetch');

    let idle: NodeJS.Timeout | undefined;
    let idleFired = false;
    const armIdle = (): void => {
      if (this.settings.idleTimeoutMs <= 0) return;
      if (idle !== undefined) clearTimeout(idle);
      idle = setTimeout(() => {
        idleFired = true;
        controller.abort();
      }, this.settings.idleTimeoutMs);
      idle.unref();
    };

    try {
      armIdle();
      const response = await this.settings.fetch(this.settings.url, {
        headers,
        signal: controller.signal,
      });
      replay?.span.setAttribute('http.response.status_code', response.status);
      if (response.status === 204) {
        await cancelBody(response);
        this.endReplay(replay);
        return 'stop';
      }
      const type = response.headers.get('content-type') ?? '';
      if (
        !response.ok ||
        response.body === null ||
        !type.toLowerCase().startsWith('text/event-stream')
      ) {
        await cancelBody(response);
        this.endReplay(replay, `HTTP ${response.status} ${type}`.trim());
        return 'http_error';
      }
      this.connected = true;
      this.attempt = 0;
      if (replay !== undefined) this.armQuiet(replay);
      await this.read(response.body, replay, armIdle);
      this.endReplay(replay);
      return 'ended';
    } catch (error) {
      if (this.closed) {
        this.endReplay(replay);
        return 'stop';
      }
      const reason: SseLostReason = idleFired ? 'idle_timeout' : 'network';
      this.endReplay(replay, reason);
      diag.debug(`stacklight: SSE stream lost (${reason})`, error);
      return reason;
    } finally {
      if (idle !== undefined) clearTimeout(idle);
      this.connected = false;
      this.current = undefined;
    }
  }

  private async read(
    body: ReadableStream<Uint8Array>,
    replay: Replay | undefined,
    onActivity: () => void,
  ): Promise<void> {
    const parser = new SseParser(this.settings.maxEventSize);
    const decoder = new TextDecoder('utf-8');
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        onActivity();
        const { messages, tooLarge } = parser.push(decoder.decode(value, { stream: true }));
        if (parser.retryMs !== undefined) this.baseDelay = parser.retryMs;
        for (let i = 0; i < tooLarge; i++) this.count('sseDroppedEventsTotal', 'too_large');
        for (const message of messages) {
          await this.handle(message, replay);
          if (this.closed) return;
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  private async handle(message: SseMessage, replay: Replay | undefined): Promise<void> {
    if (message.id !== undefined) this.lastEventId = message.id === '' ? undefined : message.id;
    const envelope = parseEnvelope(message.data);
    if (envelope === undefined) {
      this.count('sseDroppedEventsTotal', 'malformed');
      return;
    }
    const received = this.settings.now();
    const written = timestampMs(envelope.outboxTs);
    const lagMs = written === undefined ? undefined : Math.max(0, received - written);
    if (lagMs !== undefined) this.observeLag(lagMs);

    let ctx = ROOT_CONTEXT;
    let replaying = false;
    if (replay !== undefined && !replay.ended) {
      if (written !== undefined && written >= replay.startedAt) {
        this.endReplay(replay); // a live event: the backlog is through
      } else {
        replaying = true;
        replay.count++;
        replay.lastAt = performance.now();
        ctx = replay.ctx;
        this.armQuiet(replay);
      }
    }
    const meta: SseEventMeta = { id: message.id, event: message.event, replay: replaying, lagMs };
    try {
      await context.with(ctx, () => this.options.onEvent(envelope, meta));
    } catch (error) {
      this.count('sseDroppedEventsTotal', 'handler_error');
      diag.debug('stacklight: SSE event handler threw', error);
    }
  }

  private startReplay(previous: SseLostReason | undefined): Replay | undefined {
    try {
      const span = this.telemetry.tracer.startSpan(
        SPAN_NAMES.eventsReplay.name,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'events.last_event_id': this.lastEventId ?? '',
            'events.reconnect.reason': previous ?? 'resume',
            'url.full': this.settings.url.split('?')[0]!,
          },
        },
        ROOT_CONTEXT,
      );
      return {
        span,
        ctx: trace.setSpan(ROOT_CONTEXT, span),
        startedAt: this.settings.now(),
        count: 0,
        lastAt: performance.now(),
        quietTimer: undefined,
        ended: false,
      };
    } catch (error) {
      internalError(this.telemetry);
      diag.debug('stacklight: starting events.replay failed', error);
      return undefined;
    }
  }

  private armQuiet(replay: Replay): void {
    if (replay.quietTimer !== undefined) clearTimeout(replay.quietTimer);
    replay.quietTimer = setTimeout(() => this.endReplay(replay), this.settings.replayQuietMs);
    replay.quietTimer.unref();
  }

  /** Ends the replay span once; at the last replayed event when it ended by quiet. */
  private endReplay(replay: Replay | undefined, failure?: string): void {
    if (replay === undefined || replay.ended) return;
    replay.ended = true;
    if (replay.quietTimer !== undefined) clearTimeout(replay.quietTimer);
    try {
      replay.span.setAttribute('events.replayed', replay.count);
      if (failure !== undefined) {
        replay.span.setAttribute('error.type', failure.startsWith('HTTP') ? 'http_error' : failure);
        replay.span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
        replay.span.end();
      } else {
        replay.span.end(replay.count > 0 ? replay.lastAt : undefined);
      }
    } catch (error) {
      internalError(this.telemetry);
      diag.debug('stacklight: ending events.replay failed', error);
    }
  }

  private nextDelay(): number {
    const exp = Math.min(this.settings.maxReconnectDelayMs, this.baseDelay * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.max(0, Math.round(exp * (0.8 + Math.random() * 0.4)));
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).finally(() => {
      this.wake = undefined;
    });
  }

  private observeLag(ms: number): void {
    try {
      this.telemetry.metrics.sseStreamLagSeconds.observe(ms / 1000);
    } catch (error) {
      internalError(this.telemetry);
      diag.debug('stacklight: sse_stream_lag_seconds failed', error);
    }
  }

  private count(metric: 'sseReconnectsTotal' | 'sseDroppedEventsTotal', reason: string): void {
    try {
      this.telemetry.metrics[metric].inc({ reason });
    } catch (error) {
      internalError(this.telemetry);
      diag.debug(`stacklight: ${metric} failed`, error);
    }
  }
}

/** The envelope in an event's data: a JSON object with a string `type`, or `undefined`. */
function parseEnvelope(data: string): EventEnvelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  if (typeof (value as { type?: unknown }).type !== 'string') return undefined;
  return value as EventEnvelope;
}

async function cancelBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // The body is being thrown away anyway.
  }
}
