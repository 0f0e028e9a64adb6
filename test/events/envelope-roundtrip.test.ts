import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getContext } from '../../src/context.js';
import { createEventDelivery, createOutbox, type EventEnvelope } from '../../src/events/index.js';
import type { Telemetry } from '../../src/index.js';
import { parseTraceParent, SPAN_NAMES } from '../../src/tracing/index.js';
import { initForTest } from '../clients/fixtures.js';
import type { LogCapture } from '../helpers/log-capture.js';

let telemetry: Telemetry;
let logs: LogCapture;
let spans: InMemorySpanExporter;

beforeAll(() => {
  ({ telemetry, spans, logs } = initForTest('core'));
});
afterEach(() => {
  spans.reset();
  for (const m of Object.values(telemetry.metrics)) m.reset();
  logs.lines(); // every line so far validates against the log schema
});
afterAll(async () => {
  await telemetry.shutdown();
  logs.lines(); // including the lines written by shutdown()
});

function spanNamed(name: string): ReadableSpan {
  const found = spans.getFinishedSpans().filter((s) => s.name === name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

/** A clock the test moves by hand. */
function clock(start: number) {
  let t = start;
  return { now: () => t, set: (v: number) => (t = v) };
}

describe('event envelope round trip (append → store as JSON → deliver)', () => {
  it('links the WS send to the outbox.append span of the originating trace and records the exact lag', async () => {
    const core = clock(1_767_225_600_000);
    const edge = clock(0);
    const outbox = createOutbox(telemetry, { now: core.now });
    const delivery = createEventDelivery(telemetry, { channel: 'ws', now: edge.now });

    // Core: a request scores a trade and writes the event in its transaction.
    const table: string[] = [];
    const request = telemetry.tracer.startSpan('HTTP /internal/trades/:id/score', {
      kind: SpanKind.SERVER,
    });
    const row = await context.with(trace.setSpan(context.active(), request), () =>
      outbox.append({ type: 'coach.reflection', payload: { tradeId: 't_1' } }, async (envelope) => {
        table.push(JSON.stringify(envelope)); // jsonb column
        return { id: String(table.length) };
      }),
    );
    request.end();
    expect(row).toEqual({ id: '1' });

    // Edge, 1234 ms later: the row comes back as JSON and goes out on a socket.
    edge.set(core.now() + 1234);
    const stored = JSON.parse(table[0]!) as EventEnvelope<{ tradeId: string }>;
    const sent: string[] = [];
    delivery.deliver({ ...stored, id: row.id }, () => sent.push(JSON.stringify(stored)));
    expect(sent).toHaveLength(1);

    const append = spanNamed(SPAN_NAMES.outboxAppend.name);
    const send = spanNamed(SPAN_NAMES.wsSend.name);
    // outbox.append is part of the request's trace...
    expect(append.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(append.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    // ...the stored envelope carries outbox.append's own context...
    expect(stored.outboxTs).toBe(1_767_225_600_000);
    expect(parseTraceParent(stored._trace?.traceparent)).toMatchObject({
      traceId: append.spanContext().traceId,
      spanId: append.spanContext().spanId,
      traceFlags: 3, // sampled, random (a trace stacklight started)
    });
    // ...and WS send links back to it: one trace to follow, end to end.
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.links).toHaveLength(1);
    expect(send.links[0]!.context).toMatchObject({
      traceId: request.spanContext().traceId,
      spanId: append.spanContext().spanId,
    });
    expect(send.parentSpanContext).toBeUndefined();
    expect(send.attributes).toMatchObject({
      'event.type': 'coach.reflection',
      'event.id': '1',
      'event.channel': 'ws',
      'event.delivery_lag_ms': 1234,
    });

    const lag = telemetry.metrics.eventDeliveryLagMs.read({
      channel: 'ws',
      type: 'coach.reflection',
    });
    expect(lag.count).toBe(1);
    expect(lag.sum).toBe(1234);
    expect(lag.buckets['1000']).toBe(0);
    expect(lag.buckets['1500']).toBe(1);
    expect(telemetry.metrics.eventOutboxWritesTotal.read({ type: 'coach.reflection' })).toBe(1);
  });

  it('makes the send a child of the active span (SSE consumer, events.replay), still linked to the origin', () => {
    const outbox = createOutbox(telemetry);
    const delivery = createEventDelivery(telemetry, { channel: 'ws' });
    const envelope = JSON.parse(
      JSON.stringify(outbox.append({ type: 'import.progress', payload: 40 })),
    ) as EventEnvelope;
    const replay = telemetry.tracer.startSpan(SPAN_NAMES.eventsReplay.name);
    context.with(trace.setSpan(context.active(), replay), () =>
      delivery.deliver(envelope, () => undefined),
    );
    replay.end();
    const send = spanNamed('WS send');
    expect(send.parentSpanContext?.spanId).toBe(replay.spanContext().spanId);
    expect(send.links[0]!.context.spanId).toBe(spanNamed('outbox.append').spanContext().spanId);
  });

  it('builds the envelope alone when no write is given, and counts it', () => {
    const outbox = createOutbox(telemetry, { now: () => 42 });
    const envelope = outbox.append({ type: 'import.progress', payload: { pct: 40 }, id: 'evt_7' });
    expect(envelope).toEqual({
      id: 'evt_7',
      type: 'import.progress',
      outboxTs: 42,
      payload: { pct: 40 },
      _trace: { traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-03$/) },
    });
    expect(spanNamed('outbox.append').attributes).toEqual({
      'event.type': 'import.progress',
      'event.id': 'evt_7',
    });
    expect(telemetry.metrics.eventOutboxWritesTotal.read({ type: 'import.progress' })).toBe(1);
  });

  it('does not count a failed write, records it on the span and rethrows it as is', async () => {
    const outbox = createOutbox(telemetry);
    const failure = new Error('unique violation');
    await expect(
      outbox.append({ type: 'coach.reflection', payload: {} }, () => Promise.reject(failure)),
    ).rejects.toBe(failure);
    expect(() =>
      outbox.append({ type: 'coach.reflection', payload: {} }, () => {
        throw failure;
      }),
    ).toThrow(failure);
    expect(telemetry.metrics.eventOutboxWritesTotal.read({ type: 'coach.reflection' })).toBe(0);
    for (const span of spans.getFinishedSpans())
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('folds event types outside the declared list into type="other"', () => {
    const outbox = createOutbox(telemetry, { types: ['coach.reflection'] });
    outbox.append({ type: 'coach.reflection', payload: 1 });
    outbox.append({ type: `user.${'8f14e45f'}.updated`, payload: 2 });
    expect(telemetry.metrics.eventOutboxWritesTotal.read({ type: 'coach.reflection' })).toBe(1);
    expect(telemetry.metrics.eventOutboxWritesTotal.read({ type: 'other' })).toBe(1);
  });

  it('takes the outbox timestamp from the row (ISO string or Date) and clamps clock skew to 0', () => {
    const delivery = createEventDelivery(telemetry, {
      channel: 'sse',
      now: () => Date.parse('2026-01-01T00:00:02.500Z'),
    });
    delivery.deliver({ type: 'x' }, () => undefined, { outboxTs: '2026-01-01T00:00:00.000Z' });
    delivery.deliver({ type: 'x' }, () => undefined, {
      outboxTs: new Date('2026-01-01T00:00:02.000Z'),
    });
    delivery.deliver(
      { type: 'x', outboxTs: Date.parse('2026-01-01T00:00:03.000Z') },
      () => undefined,
    );
    const lag = telemetry.metrics.eventDeliveryLagMs.read({ channel: 'sse', type: 'x' });
    expect(lag.count).toBe(3);
    expect(lag.sum).toBe(2500 + 500 + 0);
    expect(spans.getFinishedSpans().map((s) => s.name)).toEqual([
      'SSE send',
      'SSE send',
      'SSE send',
    ]);
  });

  it('still sends an envelope without trace context or timestamp, with no link and no lag', () => {
    const delivery = createEventDelivery(telemetry, { channel: 'ws' });
    let sent = 0;
    for (const envelope of [
      {},
      { _trace: 'garbage', outboxTs: 'yesterday' },
      {
        _trace: { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' },
        outboxTs: NaN,
      },
      null as unknown as object,
    ]) {
      delivery.deliver(envelope, () => sent++);
    }
    expect(sent).toBe(4);
    for (const span of spans.getFinishedSpans()) expect(span.links).toEqual([]);
    expect(telemetry.metrics.eventDeliveryLagMs.read({ channel: 'ws', type: 'other' }).count).toBe(
      0,
    );
  });

  it('awaits an async send before taking the lag, and records no lag when the send fails', async () => {
    let t = 1000;
    const delivery = createEventDelivery(telemetry, { channel: 'ws', now: () => t });
    await delivery.deliver({ type: 'x', outboxTs: 0 }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      t = 1800; // the socket flushed at 1800
    });
    expect(telemetry.metrics.eventDeliveryLagMs.read({ channel: 'ws', type: 'x' }).sum).toBe(1800);

    const closed = new Error('socket closed');
    await expect(
      delivery.deliver({ type: 'x', outboxTs: 0 }, () => Promise.reject(closed)),
    ).rejects.toBe(closed);
    expect(telemetry.metrics.eventDeliveryLagMs.read({ channel: 'ws', type: 'x' }).count).toBe(1);
    expect(spans.getFinishedSpans().at(-1)!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('puts the event id in the log context during the send', () => {
    const delivery = createEventDelivery(telemetry, { channel: 'ws' });
    let seen: unknown;
    delivery.deliver({ id: 'evt_9', type: 'x' }, () => (seen = getContext()?.eventId));
    expect(seen).toBe('evt_9');
  });

  it('fails fast on a wrong channel', () => {
    expect(() => createEventDelivery(telemetry, { channel: 'email' as 'ws' })).toThrow(
      'stacklight: eventDelivery.channel must be "ws" or "sse", got "email"',
    );
  });
});
