import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createEventDelivery,
  subscribeToEvents,
  type EventEnvelope,
  type SseEventMeta,
  type SseSubscriberOptions,
  type SseSubscription,
} from '../../src/events/index.js';
import type { Telemetry } from '../../src/index.js';
import { parseTraceParent } from '../../src/tracing/index.js';
import { initForTest } from '../clients/fixtures.js';
import type { LogCapture } from '../helpers/log-capture.js';
import { startSseServer, waitFor, type SseTestServer } from './sse-server.js';

let telemetry: Telemetry;
let logs: LogCapture;
let spans: InMemorySpanExporter;
let core: SseTestServer;
let sub: SseSubscription | undefined;

interface Received {
  envelope: EventEnvelope;
  meta: SseEventMeta;
  activeSpanId: string | undefined;
}

beforeAll(() => {
  ({ telemetry, spans, logs } = initForTest('edge'));
});
beforeEach(async () => {
  core = await startSseServer();
});
afterEach(async () => {
  await sub?.close();
  sub = undefined;
  await core.close();
  spans.reset();
  for (const m of Object.values(telemetry.metrics)) m.reset();
  logs.lines(); // every line so far validates against the log schema
});
afterAll(async () => {
  await telemetry.shutdown();
  logs.lines(); // including the lines written by shutdown()
});

function subscribe(extra: Partial<SseSubscriberOptions> = {}): Received[] {
  const received: Received[] = [];
  sub = subscribeToEvents(telemetry, {
    url: core.url,
    reconnectDelayMs: 10,
    onEvent: (envelope, meta) => {
      received.push({ envelope, meta, activeSpanId: trace.getActiveSpan()?.spanContext().spanId });
    },
    ...extra,
  });
  return received;
}

const reconnects = (reason: string) => telemetry.metrics.sseReconnectsTotal.read({ reason });
const drops = (reason: string) => telemetry.metrics.sseDroppedEventsTotal.read({ reason });
const replaySpans = (): ReadableSpan[] =>
  spans.getFinishedSpans().filter((s) => s.name === 'events.replay');

describe('subscribeToEvents', () => {
  it('hands each event to the handler in order and records the stream lag', async () => {
    const received = subscribe({ now: () => 10_000 });
    await waitFor(() => core.open() === 1, 5000, 'connect');
    core.push({ type: 'coach.reflection', outboxTs: 9_250, payload: { tradeId: 't_1' } });
    core.push({ type: 'import.progress', outboxTs: 8_000, payload: 40 });
    await waitFor(() => received.length === 2);
    expect(received.map((r) => [r.envelope.type, r.meta])).toEqual([
      ['coach.reflection', { id: '1', event: 'outbox', replay: false, lagMs: 750 }],
      ['import.progress', { id: '2', event: 'outbox', replay: false, lagMs: 2000 }],
    ]);
    expect(received[0]!.activeSpanId).toBeUndefined();
    expect(sub!.lastEventId).toBe('2');
    expect(sub!.connected).toBe(true);
    const lag = telemetry.metrics.sseStreamLagSeconds.read();
    expect(lag.count).toBe(2);
    expect(lag.sum).toBeCloseTo(2.75, 6);
    expect(core.connects[0]).toMatchObject({ accept: 'text/event-stream' });
    expect(core.connects[0]!.traceparent).toBeUndefined();
    expect(core.connects[0]!['last-event-id']).toBeUndefined();
  });

  it('drops malformed events and events whose handler throws, and goes on', async () => {
    const received = subscribe({
      onEvent: (envelope) => {
        if (envelope.type === 'bad') throw new Error('handler bug');
        received.push({ envelope, meta: {} as SseEventMeta, activeSpanId: undefined });
      },
    });
    await waitFor(() => core.open() === 1);
    core.push('not json', true);
    core.push('[1,2]', true);
    core.push({ no: 'type' });
    core.push({ type: 'bad', outboxTs: 1, payload: null });
    core.push({ type: 'good', outboxTs: 1, payload: null });
    await waitFor(() => received.length === 1);
    expect(received[0]!.envelope.type).toBe('good');
    expect(drops('malformed')).toBe(3);
    expect(drops('handler_error')).toBe(1);
    expect(sub!.lastEventId).toBe('5');
  });

  it('reconnects with Last-Event-ID after the stream ends, inside an events.replay span that Core continues', async () => {
    const received = subscribe();
    await waitFor(() => core.open() === 1);
    core.push({ type: 'a', outboxTs: Date.now(), payload: 1 });
    await waitFor(() => received.length === 1);

    core.endAll();
    // Written while Edge is away: replayed on reconnect.
    core.push({ type: 'missed', outboxTs: Date.now(), payload: 2 });
    core.push({ type: 'missed', outboxTs: Date.now(), payload: 3 });
    await waitFor(() => received.length === 3, 5000, 'replay');
    await new Promise((r) => setTimeout(r, 20));
    core.push({ type: 'live', outboxTs: Date.now() + 1, payload: 4 });
    await waitFor(() => received.length === 4 && replaySpans().length === 1, 5000, 'live event');

    expect(reconnects('ended')).toBe(1);
    expect(core.connects).toHaveLength(2);
    expect(core.connects[1]!['last-event-id']).toBe('1');

    const replay = replaySpans()[0]!;
    expect(replay.kind).toBe(SpanKind.CLIENT);
    expect(replay.parentSpanContext).toBeUndefined();
    expect(replay.attributes).toMatchObject({
      'events.last_event_id': '1',
      'events.reconnect.reason': 'ended',
      'events.replayed': 2,
      'http.response.status_code': 200,
    });
    // Core's side of the replay continues the same trace.
    const sent = parseTraceParent(core.connects[1]!.traceparent)!;
    expect(sent.traceId).toBe(replay.spanContext().traceId);
    expect(sent.spanId).toBe(replay.spanContext().spanId);
    // Replayed events run inside the replay span; the live one does not.
    expect(received.map((r) => [r.envelope.type, r.meta.replay, r.activeSpanId])).toEqual([
      ['a', false, undefined],
      ['missed', true, replay.spanContext().spanId],
      ['missed', true, replay.spanContext().spanId],
      ['live', false, undefined],
    ]);
  });

  it('parents each WS send of a replayed event under events.replay, linked to its origin', async () => {
    const delivery = createEventDelivery(telemetry, { channel: 'ws' });
    const origin = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    core.push({
      type: 'missed',
      outboxTs: Date.now() - 500,
      payload: 1,
      _trace: { traceparent: origin },
    });
    sub = subscribeToEvents(telemetry, {
      url: core.url,
      lastEventId: '0',
      replayQuietMs: 30,
      onEvent: (envelope) => delivery.deliver(envelope, () => undefined),
    });
    await waitFor(() => replaySpans().length === 1, 5000, 'replay end');
    const replay = replaySpans()[0]!;
    const send = spans.getFinishedSpans().find((s) => s.name === 'WS send')!;
    expect(replay.attributes['events.reconnect.reason']).toBe('resume');
    expect(send.parentSpanContext?.spanId).toBe(replay.spanContext().spanId);
    expect(send.links[0]!.context).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
    });
  });

  it('ends a quiet replay at its last replayed event, not after the quiet wait', async () => {
    core.push({ type: 'missed', outboxTs: Date.now() - 100, payload: 1 });
    // The span ends after the quiet wait, but is dated at the last replayed
    // event: its duration stays well under the wait (the margin is for a
    // loaded machine replaying one event slowly).
    subscribe({ lastEventId: '0', replayQuietMs: 2000 });
    await waitFor(() => replaySpans().length === 1, 10_000, 'replay end');
    const replay = replaySpans()[0]!;
    const ms = replay.duration[0] * 1000 + replay.duration[1] / 1e6;
    expect(ms).toBeLessThan(1500);
    expect(replay.attributes['events.replayed']).toBe(1);
  });

  it('counts a cut connection as reason network and resumes where it stopped', async () => {
    const received = subscribe();
    await waitFor(() => core.open() === 1);
    core.push({ type: 'a', outboxTs: Date.now(), payload: 1 });
    await waitFor(() => received.length === 1);
    core.cutAll();
    await waitFor(() => core.open() === 1 && core.connects.length === 2, 5000, 'reconnect');
    core.push({ type: 'b', outboxTs: Date.now(), payload: 2 });
    await waitFor(() => received.length === 2);
    expect(reconnects('network')).toBe(1);
    expect(core.connects[1]!['last-event-id']).toBe('1');
  });

  it('retries on an HTTP error or a response that is not an event stream', async () => {
    core.nextAnswers.push(503, 'html');
    subscribe();
    await waitFor(() => sub!.connected, 5000, 'third connect');
    expect(core.connects).toHaveLength(3);
    expect(reconnects('http_error')).toBe(2);
  });

  it('stops for good on HTTP 204, as EventSource does', async () => {
    core.nextAnswers.push(204);
    subscribe();
    await waitFor(() => core.connects.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    expect(core.connects).toHaveLength(1);
    expect(sub!.connected).toBe(false);
  });

  it('reconnects when nothing arrives for idleTimeoutMs (half-open connection)', async () => {
    core.nextAnswers.push('silent');
    subscribe({ idleTimeoutMs: 100 });
    await waitFor(() => core.open() === 1, 5000, 'second connect');
    expect(reconnects('idle_timeout')).toBe(1);
  });

  it('counts heartbeats as activity for the idle timeout', async () => {
    // Heartbeats every 100 ms for twice the idle timeout: without them the
    // connection would have been dropped. The idle timeout is ten heartbeat
    // gaps, so a loaded machine's late timer cannot fake an idle connection.
    subscribe({ idleTimeoutMs: 1000 });
    await waitFor(() => core.open() === 1);
    const since = Date.now();
    while (Date.now() - since < 2000) {
      core.write(': ping\n\n');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(reconnects('idle_timeout')).toBe(0);
    expect(core.connects).toHaveLength(1);
  });

  it('marks a failed replay as an error', async () => {
    core.nextAnswers.push(500);
    subscribe({ lastEventId: '3' });
    await waitFor(() => replaySpans().length === 1 && core.open() === 1, 5000, 'failed replay');
    const failed = replaySpans()[0]!;
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['error.type']).toBe('http_error');
  });

  it('stops reading and reconnecting on close()', async () => {
    subscribe();
    await waitFor(() => core.open() === 1);
    await sub!.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(core.connects).toHaveLength(1);
    expect(core.open()).toBe(0);
    expect(sub!.connected).toBe(false);
  });

  it('fails fast on a wrong URL or handler', () => {
    expect(() =>
      subscribeToEvents(telemetry, { url: 'core/events', onEvent: () => undefined }),
    ).toThrow('stacklight: sseSubscriber.url must be an absolute http(s) URL, got "core/events"');
    expect(() =>
      subscribeToEvents(telemetry, { url: core.url, onEvent: undefined as unknown as () => void }),
    ).toThrow('stacklight: sseSubscriber.onEvent must be a function, got undefined');
  });

  it('fails fast on a delay or size that is not a whole number in range, naming the unit', () => {
    const onEvent = (): void => undefined;
    expect(() =>
      subscribeToEvents(telemetry, { url: core.url, onEvent, idleTimeoutMs: 1.5 }),
    ).toThrow(
      'stacklight: sseSubscriber.idleTimeoutMs must be a whole number of milliseconds in [0, 2147483647], got 1.5',
    );
    expect(() => subscribeToEvents(telemetry, { url: core.url, onEvent, maxEventSize: 0 })).toThrow(
      'stacklight: sseSubscriber.maxEventSize must be an integer in [1, 2147483647], got 0',
    );
  });
});
