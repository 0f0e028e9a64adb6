import { diag, SpanKind, type Attributes, type Span } from '@opentelemetry/api';
import { getContext, runWithContext } from '../context.js';
import { ConfigError } from '../errors.js';
import { SPAN_NAMES } from '../tracing/span-names.js';
import { withSpan } from '../tracing/with-span.js';
import { OTHER_EVENT_TYPE } from './outbox.js';
import {
  internalError,
  originLink,
  stringField,
  timestampMs,
  type EnvelopeLike,
  type EventsTelemetry,
} from './envelope.js';
import { isThenable } from '../util/async.js';
import { useMetricFamily } from '../metrics/registry.js';

/** Where an event is delivered: the `channel` label of `event_delivery_lag_ms`. */
export type DeliveryChannel = 'ws' | 'sse';

/** Span name of an SSE send (the catalog's `sseSend`, the SSE twin of `WS send`). */
export const SSE_SEND_SPAN_NAME = SPAN_NAMES.sseSend.name;

/** Options of {@link createEventDelivery}. */
export interface EventDeliveryOptions {
  /** `ws` (Edge → browser) or `sse` (Core → Edge, `/internal/events/subscribe`). */
  channel: DeliveryChannel;
  /**
   * The event types this service delivers. When given, any other type is
   * recorded as `other` in the `type` label of `event_delivery_lag_ms`, which
   * keeps the label bounded even if a type is built from data by mistake.
   * An envelope without a type is always `other`.
   * @default undefined (every type is its own label value, under the series cap)
   */
  types?: readonly string[];
  /**
   * The clock of the send time, in ms since the epoch. Lag across hosts is
   * only as good as their clock sync (NTP): a negative lag is recorded as 0.
   * @default Date.now
   */
  now?: () => number;
}

/** Per-send options. */
export interface DeliverOptions {
  /** The outbox timestamp, when the row's column is used instead of `envelope.outboxTs`. */
  outboxTs?: number | string | Date;
  /** Extra span attributes (connection id, user id hash…); never the payload. */
  attributes?: Attributes;
}

/** The delivery helper of one channel. */
export interface EventDelivery {
  readonly channel: DeliveryChannel;
  /**
   * Runs `send()` (the `socket.send(...)` / `reply.raw.write(...)`) inside a
   * `WS send` (or `SSE send`) PRODUCER span linked to the span that wrote the
   * event, then records `event_delivery_lag_ms{channel,type}` = send time −
   * `outboxTs`. A promise from `send` is awaited before the lag is taken; a
   * failing `send` records no lag, is recorded on the span and is rethrown
   * as is. Returns what `send` returns.
   */
  deliver<R>(envelope: EnvelopeLike, send: () => R, options?: DeliverOptions): R;
}

/**
 * Creates the delivery helper called where an outbox event leaves the
 * service: at the WebSocket send on Edge, at the SSE write on Core.
 *
 * The send span is LINKED to the event's origin, not a child of it: the
 * send happens after the originating request or job has ended, in another
 * process, once per connected socket and again on every replay. As a child
 * it would stretch the origin trace by the delivery delay and multiply it by
 * the fan-out; as a link each send is a short span of its own (a child of
 * whatever is active: the SSE consumer, `events.replay`, or a new trace) that
 * points back at the `outbox.append` span, which is how OpenTelemetry's
 * messaging conventions model fan-out delivery.
 *
 * @example
 * const delivery = createEventDelivery(telemetry, { channel: 'ws' });
 * delivery.deliver(envelope, () => socket.send(JSON.stringify(envelope)));
 */
export function createEventDelivery(
  telemetry: EventsTelemetry,
  options: EventDeliveryOptions,
): EventDelivery {
  const channel = options?.channel;
  if (channel !== 'ws' && channel !== 'sse') {
    throw new ConfigError('eventDelivery.channel', channel, '"ws" or "sse"');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new ConfigError(
      'eventDelivery.now',
      options.now,
      'a function returning ms since the epoch',
    );
  }
  if (
    options.types !== undefined &&
    (!Array.isArray(options.types) ||
      !options.types.every((t) => typeof t === 'string' && t !== ''))
  ) {
    throw new ConfigError(
      'eventDelivery.types',
      options.types,
      'an array of non-empty event type names',
    );
  }
  const known = options.types === undefined ? undefined : new Set(options.types);
  const typeLabel = (type: string | undefined): string =>
    type === undefined || (known !== undefined && !known.has(type)) ? OTHER_EVENT_TYPE : type;
  const now = options.now ?? Date.now;
  const spanName = channel === 'ws' ? SPAN_NAMES.wsSend.name : SSE_SEND_SPAN_NAME;
  const lag = telemetry.metrics.eventDeliveryLagMs;
  useMetricFamily(telemetry.metrics, 'events');

  const recordLag = (span: Span, written: number | undefined, type: string): void => {
    if (written === undefined) return;
    try {
      const ms = Math.max(0, now() - written);
      lag.observe({ channel, type }, ms);
      span.setAttribute('event.delivery_lag_ms', ms);
    } catch (error) {
      internalError(telemetry);
      diag.debug('stacklight: recording delivery lag failed', error);
    }
  };

  return {
    channel,
    deliver<R>(envelope: EnvelopeLike, send: () => R, deliverOptions?: DeliverOptions): R {
      let links: ReturnType<typeof originLink>;
      const attributes: Attributes = { 'event.channel': channel };
      let written: number | undefined;
      let eventId: string | undefined;
      let type = OTHER_EVENT_TYPE;
      try {
        links = originLink(envelope);
        written = timestampMs(deliverOptions?.outboxTs ?? envelope?.outboxTs);
        const given = stringField(envelope?.type);
        type = typeLabel(given);
        eventId = stringField(envelope?.id);
        if (given !== undefined) attributes['event.type'] = given;
        if (eventId !== undefined) attributes['event.id'] = eventId;
        if (deliverOptions?.attributes !== undefined)
          Object.assign(attributes, deliverOptions.attributes);
      } catch (error) {
        internalError(telemetry);
        diag.debug('stacklight: reading an event envelope failed', error);
      }
      return withSpan(
        spanName,
        attributes,
        (span) => {
          // Log lines written during the send carry the event id.
          const result =
            eventId === undefined ? send() : runWithContext({ ...getContext(), eventId }, send);
          if (isThenable(result)) {
            return result.then((value) => {
              recordLag(span, written, type);
              return value;
            }) as R;
          }
          recordLag(span, written, type);
          return result;
        },
        { tracer: telemetry.tracer, kind: SpanKind.PRODUCER, links },
      );
    },
  };
}
