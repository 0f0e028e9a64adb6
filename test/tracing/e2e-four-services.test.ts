/**
 * The spec's main user journey, end to end, in one process: a trade import
 * is requested at Edge, Core enqueues it, a worker imports a page from the
 * broker and scores the trade with the AI Coach, the reflection goes to the
 * outbox, Core streams it over SSE, and Edge pushes the bubble over a
 * WebSocket. Spans go over real OTLP/HTTP protobuf to a local receiver.
 *
 * Services: Edge (Fastify + stacklight plugin), Core (Express + stacklight
 * middleware), a worker step (an in-memory queue: the job crosses as JSON
 * with its `_trace`, as BullMQ job data does), AI Coach (Fastify + plugin),
 * and a plain node:http broker (an external vendor, not instrumented).
 * One `init()` serves all four: they differ by server, not by telemetry.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { context, ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAiCoachClient,
  createServiceClient,
  createVendorClient,
} from '../../src/clients/index.js';
import {
  createEventDelivery,
  createOutbox,
  subscribeToEvents,
  trackWebSocket,
  type EventEnvelope,
  type SseSubscription,
} from '../../src/events/index.js';
import { stacklightMiddleware } from '../../src/express.js';
import { stacklightPlugin } from '../../src/fastify.js';
import { init, type Telemetry } from '../../src/index.js';
import {
  enqueueSpanName,
  extractContext,
  injectContext,
  parseTraceParent,
  SPAN_NAMES,
  withSpan,
} from '../../src/tracing/index.js';
import { createLogCapture } from '../helpers/log-capture.js';
import {
  OTLP_SPAN_KIND,
  startOtlpReceiver,
  type OtlpReceiver,
  type OtlpSpan,
} from '../helpers/otlp-receiver.js';

let receiver: OtlpReceiver;
let telemetry: Telemetry;
const logs = createLogCapture();
const closers: (() => Promise<unknown>)[] = [];
let subscription: SseSubscription | undefined;
let edgeUrl: string;

/** What the outside world saw. */
const seen = {
  brokerHeaders: [] as IncomingHttpHeaders[],
  subscribeHeaders: [] as IncomingHttpHeaders[],
  bubbles: [] as string[],
};

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

async function listenFastify(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** The broker (an external vendor): answers one page of trades. */
async function startBroker(): Promise<string> {
  const server = createServer((req, res) => {
    seen.brokerHeaders.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify([{ id: 't_42', symbol: 'BTCUSDT', side: 'BUY', qty: 0.1 }]));
  });
  closers.push(() => new Promise((r) => server.close(r)));
  return listen(server);
}

/** S5 AI Coach. */
async function startAiCoach(): Promise<string> {
  const app = Fastify();
  await app.register(stacklightPlugin, { telemetry });
  app.post('/v1/indicators', async () => ({ rsi: 71.2 }));
  app.post('/v1/bias/score', async () => ({ tags: ['FOMO'] }));
  app.post('/v1/nlg/reflect', async () => ({ text: 'You chased the breakout.' }));
  return listenFastify(app);
}

/** The outbox table (Postgres in production): rows with JSON bodies. */
const outboxTable: { id: number; body: string }[] = [];
/** q_import (Redis in production): job data as JSON. */
const queue: string[] = [];
/** Core's open SSE responses. */
const coreStreams = new Set<ServerResponse>();

/** S3 Core: enqueues imports, streams the outbox over SSE. */
async function startCore(): Promise<string> {
  const app = express();
  app.use(stacklightMiddleware(telemetry, { excludeFromTraces: ['/internal/events/subscribe'] }));
  app.post('/internal/imports', (_req, res) => {
    const job = withSpan(
      enqueueSpanName('q_import'),
      { 'messaging.system': 'bullmq', 'messaging.destination.name': 'q_import' },
      () => injectContext({ userId: 'u_1', broker: 'binance' }, undefined, 'job'),
      { tracer: telemetry.tracer, kind: SpanKind.PRODUCER },
    );
    queue.push(JSON.stringify(job));
    res.status(202).json({ queued: true });
  });

  const sse = createEventDelivery(telemetry, { channel: 'sse' });
  app.get('/internal/events/subscribe', (req, res) => {
    seen.subscribeHeaders.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    let next = Number(req.headers['last-event-id'] ?? 0) + 1;
    // The outbox poller runs on its own, outside any request's trace.
    const poll = context.with(ROOT_CONTEXT, () =>
      setInterval(() => {
        for (const row of outboxTable.filter((r) => r.id >= next)) {
          const envelope = JSON.parse(row.body) as EventEnvelope;
          sse.deliver({ ...envelope, id: String(row.id) }, () =>
            res.write(`id: ${row.id}\ndata: ${row.body}\n\n`),
          );
          next = row.id + 1;
        }
      }, 10),
    );
    coreStreams.add(res);
    res.on('close', () => {
      coreStreams.delete(res);
      clearInterval(poll);
    });
  });
  const server = createServer(app);
  closers.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(r);
      }),
  );
  return listen(server);
}

/** S4 worker step: import.page → score.trade (vendor + AI Coach) → outbox.append. */
function startWorker(brokerUrl: string, aiUrl: string): void {
  const binance = createVendorClient(telemetry, {
    vendor: 'binance',
    baseUrl: brokerUrl,
    timeoutMs: 2000,
  });
  const ai = createAiCoachClient(telemetry, { baseUrl: aiUrl, timeoutMs: 3000 });
  const outbox = createOutbox(telemetry, { types: ['coach.reflection'] });

  const run = async (raw: string): Promise<void> => {
    const data = JSON.parse(raw) as Record<string, unknown>;
    // The job's parent is whatever its data carries, nothing else.
    const parent = extractContext(data, 'job', ROOT_CONTEXT);
    await withSpan(
      'process q_import',
      { 'messaging.system': 'bullmq', 'messaging.destination.name': 'q_import' },
      () =>
        withSpan(SPAN_NAMES.importPage.name, { 'import.page': 1 }, async () => {
          const res = await binance.fetch('/api/v3/myTrades?symbol=BTCUSDT&signature=abc', {
            urlTemplate: '/api/v3/myTrades',
          });
          const trades = (await res.json()) as { id: string }[];
          for (const trade of trades) {
            await withSpan(SPAN_NAMES.scoreTrade.name, { 'trade.id': trade.id }, async () => {
              await (await ai.postJson('/v1/indicators', { tradeId: trade.id })).json();
              const { tags } = (await (
                await ai.postJson('/v1/bias/score', { tradeId: trade.id })
              ).json()) as {
                tags: string[];
              };
              const reflection = (await (
                await ai.postJson('/v1/nlg/reflect', { tradeId: trade.id, tags })
              ).json()) as {
                text: string;
              };
              outbox.append(
                { type: 'coach.reflection', payload: { tradeId: trade.id, ...reflection } },
                (envelope) =>
                  outboxTable.push({ id: outboxTable.length + 1, body: JSON.stringify(envelope) }),
              );
            });
          }
        }),
      { tracer: telemetry.tracer, kind: SpanKind.CONSUMER, context: parent },
    );
  };

  const loop = context.with(ROOT_CONTEXT, () =>
    setInterval(() => {
      const raw = queue.shift();
      if (raw !== undefined) void run(raw);
    }, 10),
  );
  closers.push(async () => clearInterval(loop));
}

/** A `ws`-like socket of one browser. */
class BrowserSocket extends EventEmitter {
  readyState = 1;
  send(data: string): void {
    seen.bubbles.push(data);
  }
}

/** S2 Edge: REST in, Core out; SSE from Core, WebSocket to the browser. */
async function startEdge(coreUrl: string): Promise<string> {
  const core = createServiceClient(telemetry, {
    service: 'core',
    baseUrl: coreUrl,
    timeoutMs: 2000,
  });
  const app = Fastify();
  await app.register(stacklightPlugin, { telemetry });
  app.post('/trades/import', async (_request, reply) => {
    const res = await core.fetch('/internal/imports', {
      method: 'POST',
      urlTemplate: '/internal/imports',
    });
    return reply.code(res.status).send(await res.json());
  });
  const url = await listenFastify(app);

  const socket = new BrowserSocket();
  trackWebSocket(telemetry, socket);
  const ws = createEventDelivery(telemetry, { channel: 'ws' });
  subscription = subscribeToEvents(telemetry, {
    url: `${coreUrl}/internal/events/subscribe`,
    reconnectDelayMs: 10,
    replayQuietMs: 50,
    onEvent: (envelope) => ws.deliver(envelope, () => socket.send(JSON.stringify(envelope))),
  });
  return url;
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  telemetry = init({
    service: 'stacklight-e2e',
    logging: { destination: logs.stream },
    metrics: { defaultMetrics: false },
    tracing: { exporter: 'otlp', endpoint: receiver.url, scheduledDelayMs: 50 },
  });
  const brokerUrl = await startBroker();
  const aiUrl = await startAiCoach();
  const coreUrl = await startCore();
  startWorker(brokerUrl, aiUrl);
  edgeUrl = await startEdge(coreUrl);
});

afterAll(async () => {
  await subscription?.close();
  for (const close of closers.reverse()) await close();
  await telemetry.shutdown();
  await receiver.close();
  logs.lines(); // every line of the journey, shutdown included, validates against the log schema
});

/** The spans of one trace, by name (each name must occur exactly once). */
function byName(spans: OtlpSpan[]): Map<string, OtlpSpan> {
  const map = new Map<string, OtlpSpan>();
  for (const s of spans) {
    expect(map.has(s.name), `duplicate span ${s.name}`).toBe(false);
    map.set(s.name, s);
  }
  return map;
}

describe('one trace across Edge → Core → worker → AI Coach, and back over SSE and WebSocket', () => {
  it('exports every hop over OTLP/HTTP protobuf with one trace id and the exact parent chain', async () => {
    const res = await fetch(`${edgeUrl}/trades/import`, { method: 'POST' });
    expect(res.status).toBe(202);

    await receiver.waitForSpans(
      (spans) =>
        spans.some((s) => s.name === 'WS send') &&
        spans.some((s) => s.name === 'HTTP /v1/nlg/reflect'),
    );
    expect(seen.bubbles).toHaveLength(1);
    expect(receiver.decodeErrors).toEqual([]);

    const root = receiver.spans.find((s) => s.name === 'HTTP /trades/import')!;
    expect(root.parentSpanId).toBe('');
    const journey = receiver.spans.filter((s) => s.traceId === root.traceId);
    const s = byName(journey);

    // name → [parent name, kind]
    const chain: [string, string | undefined, number][] = [
      ['HTTP /trades/import', undefined, OTLP_SPAN_KIND.SERVER], // Edge (Fastify)
      ['POST /internal/imports', 'HTTP /trades/import', OTLP_SPAN_KIND.CLIENT], // Edge → Core
      ['HTTP /internal/imports', 'POST /internal/imports', OTLP_SPAN_KIND.SERVER], // Core (Express)
      ['enqueue q_import', 'HTTP /internal/imports', OTLP_SPAN_KIND.PRODUCER], // job data
      ['process q_import', 'enqueue q_import', OTLP_SPAN_KIND.CONSUMER], // worker
      ['import.page', 'process q_import', OTLP_SPAN_KIND.INTERNAL],
      ['GET /api/v3/myTrades', 'import.page', OTLP_SPAN_KIND.CLIENT], // vendor
      ['score.trade', 'import.page', OTLP_SPAN_KIND.INTERNAL],
      ['indicators', 'score.trade', OTLP_SPAN_KIND.CLIENT], // worker → AI Coach
      ['HTTP /v1/indicators', 'indicators', OTLP_SPAN_KIND.SERVER], // AI Coach (Fastify)
      ['bias.score', 'score.trade', OTLP_SPAN_KIND.CLIENT],
      ['HTTP /v1/bias/score', 'bias.score', OTLP_SPAN_KIND.SERVER],
      ['nlg.reflect', 'score.trade', OTLP_SPAN_KIND.CLIENT],
      ['HTTP /v1/nlg/reflect', 'nlg.reflect', OTLP_SPAN_KIND.SERVER],
      ['outbox.append', 'score.trade', OTLP_SPAN_KIND.INTERNAL],
    ];
    expect([...s.keys()].sort()).toEqual(chain.map(([name]) => name).sort());
    for (const [name, parent, kind] of chain) {
      const span = s.get(name)!;
      expect(span.parentSpanId, `parent of ${name}`).toBe(
        parent === undefined ? '' : s.get(parent)!.spanId,
      );
      expect(span.kind, `kind of ${name}`).toBe(kind);
      expect(span.resource['service.name']).toBe('stacklight-e2e');
    }

    // The broker saw the vendor client span as its parent, and no secrets went on spans.
    const broker = parseTraceParent(seen.brokerHeaders[0]!.traceparent)!;
    expect(broker).toMatchObject({
      traceId: root.traceId,
      spanId: s.get('GET /api/v3/myTrades')!.spanId,
    });
    expect(s.get('GET /api/v3/myTrades')!.attributes).toMatchObject({
      'url.full': expect.not.stringContaining('signature'),
      'peer.service': 'binance',
      'http.response.status_code': 200,
    });

    // Delivery: SSE send (Core) and WS send (Edge) are traces of their own,
    // each linked to the outbox.append span of the journey.
    const append = s.get('outbox.append')!;
    for (const name of ['SSE send', 'WS send']) {
      const send = receiver.spans.find((x) => x.name === name)!;
      expect(send.kind, name).toBe(OTLP_SPAN_KIND.PRODUCER);
      expect(send.traceId, name).not.toBe(root.traceId);
      expect(send.links, name).toEqual([
        expect.objectContaining({ traceId: root.traceId, spanId: append.spanId }),
      ]);
      expect(send.attributes['event.type'], name).toBe('coach.reflection');
    }
    const bubble = JSON.parse(seen.bubbles[0]!) as EventEnvelope<{ text: string }>;
    expect(bubble.payload.text).toBe('You chased the breakout.');
    expect(parseTraceParent(bubble._trace?.traceparent)).toMatchObject({
      traceId: root.traceId,
      spanId: append.spanId,
    });
  });

  it('replays after a lost stream with events.replay, whose context reaches Core', async () => {
    const connects = seen.subscribeHeaders.length;
    // Core drops the stream (a deploy): Edge reconnects with Last-Event-ID.
    for (const stream of coreStreams) stream.destroy();
    await receiver.waitForSpans((spans) =>
      spans.some((x) => x.name === SPAN_NAMES.eventsReplay.name),
    );
    const replay = receiver.spans.find((x) => x.name === 'events.replay')!;
    expect(replay.kind).toBe(OTLP_SPAN_KIND.CLIENT);
    expect(replay.attributes).toMatchObject({
      'events.last_event_id': '1',
      'events.reconnect.reason': 'network',
    });
    expect(seen.subscribeHeaders.length).toBe(connects + 1);
    const sent = seen.subscribeHeaders.at(-1)!;
    expect(sent['last-event-id']).toBe('1');
    expect(parseTraceParent(sent.traceparent)).toMatchObject({
      traceId: replay.traceId,
      spanId: replay.spanId,
    });
  });

  it('names every span of the journey after the spec', () => {
    const names = new Set(receiver.spans.map((x) => x.name));
    for (const name of [
      'HTTP /trades/import',
      'enqueue q_import',
      'import.page',
      'score.trade',
      'indicators',
      'bias.score',
      'nlg.reflect',
      'outbox.append',
      'events.replay',
      'WS send',
    ]) {
      expect(names, name).toContain(name);
    }
    // sim.run and digest.aggregate belong to other journeys (simulation, weekly digest).
  });
});
