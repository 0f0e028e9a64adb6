/**
 * The demo's services as a live system: AI Coach, Core, Workers and Edge,
 * each in its own process with its own `init()`, talking over real HTTP, a
 * real WebSocket (@fastify/websocket), Core's SSE stream and real BullMQ on
 * the Redis at 127.0.0.1:6379 (instrumentQueue / instrumentProcessor, a key
 * prefix of this run, removed at the end), every one exporting OTLP/HTTP
 * protobuf to one receiver in this test.
 *
 * - One import, clicked at Edge, is one trace across the four processes:
 *   Edge → Core → q_import → the import worker → q_score → the scoring
 *   worker → AI Coach → Core's outbox; the reflection reaches the user's
 *   WebSocket with the trace in its envelope, and the `WS send` / `SSE send`
 *   spans link to the `outbox.append` that wrote it.
 * - When the connection between Edge and Core is reset, Edge resumes the
 *   SSE stream inside an `events.replay` span and delivery goes on.
 * - The spec's four probes (examples/probes/spec-probes.ts) pass against it,
 *   and fail when the journey they watch is broken.
 */
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type EventEnvelope, type Telemetry } from '../../src/index.js';
import { createProbeRunner } from '../../src/slo/probes.js';
import { parseTraceParent } from '../../src/tracing/index.js';
import { DEMO_REDIS, startDemoStack, type DemoStack } from '../helpers/demo-stack.js';
import {
  OTLP_SPAN_KIND as KIND,
  startOtlpReceiver,
  type OtlpReceiver,
  type OtlpSpan,
} from '../helpers/otlp-receiver.js';

let receiver: OtlpReceiver;
let stack: DemoStack;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startDemoStack({ otlpEndpoint: receiver.url });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
}, 60_000);

/** A span tree as [service, name, kind, children sorted by service and name]. */
type Tree = [string, string, number, Tree[]];

function treeOf(span: OtlpSpan, spans: OtlpSpan[]): Tree {
  const children = spans
    .filter((s) => s.parentSpanId === span.spanId)
    .map((s) => treeOf(s, spans))
    .sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));
  return [String(span.resource['service.name']), span.name, span.kind, children];
}

const count = (tree: Tree): number => 1 + tree[3].reduce((n, t) => n + count(t), 0);

/** Core's outbox write, reached over HTTP from a worker. */
const postEvent: Tree = [
  'workers',
  'POST /internal/events',
  KIND.CLIENT,
  [['core', 'HTTP /internal/events', KIND.SERVER, [['core', 'outbox.append', KIND.INTERNAL, []]]]],
];
const aiCall = (name: string, route: string): Tree => [
  'workers',
  name,
  KIND.CLIENT,
  [['ai-coach', `HTTP ${route}`, KIND.SERVER, []]],
];

/** The import journey as the spec draws it, with each span's process. */
const JOURNEY: Tree = [
  'edge',
  'HTTP /v1/imports',
  KIND.SERVER,
  [
    [
      'edge',
      'POST /internal/imports',
      KIND.CLIENT,
      [
        [
          'core',
          'HTTP /internal/imports',
          KIND.SERVER,
          [
            [
              'core',
              'enqueue q_import',
              KIND.PRODUCER,
              [
                [
                  'workers',
                  'process q_import',
                  KIND.CONSUMER,
                  [
                    [
                      'workers',
                      'enqueue q_score',
                      KIND.PRODUCER,
                      [
                        [
                          'workers',
                          'process q_score',
                          KIND.CONSUMER,
                          [
                            postEvent, // the reflection
                            [
                              'workers',
                              'score.trade',
                              KIND.INTERNAL,
                              [
                                aiCall('bias.score', '/v1/bias/score'),
                                aiCall('indicators', '/v1/indicators'),
                                aiCall('nlg.reflect', '/v1/nlg/reflect'),
                              ],
                            ],
                          ],
                        ],
                      ],
                    ],
                    [
                      'workers',
                      'import.page',
                      KIND.INTERNAL,
                      [['workers', 'GET /api/v3/myTrades', KIND.CLIENT, []]],
                    ],
                    postEvent, // import.progress
                  ],
                ],
              ],
            ],
          ],
        ],
      ],
    ],
  ],
];

/** Opens the coach WebSocket of `userId` at Edge; collects what it receives. */
async function openCoach(userId: string): Promise<{ socket: WebSocket; got: EventEnvelope[] }> {
  const socket = new WebSocket(`${stack.urls.edge.replace(/^http/, 'ws')}/v1/coach`, {
    headers: { 'x-user-id': userId },
  });
  const got: EventEnvelope[] = [];
  socket.on('message', (data) => got.push(JSON.parse(String(data)) as EventEnvelope));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, got };
}

/** Polls `check` every 100 ms; fails after `ms` (a hang guard, not a speed assertion). */
async function until<T>(what: string, check: () => T | undefined, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > end) {
      const logs = (['edge', 'core', 'workers', 'ai-coach'] as const).map(
        (name) => `--- ${name}\n${stack.output(name).slice(-3000)}`,
      );
      throw new Error(`no ${what} within ${ms} ms\n${logs.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the demo, one process per service', { timeout: 120_000 }, () => {
  it('carries one import click at Edge through Core, BullMQ, the workers and AI Coach to the WebSocket, in one trace', async () => {
    const { socket, got } = await openCoach('u_e2e');
    try {
      const res = await fetch(`${stack.urls.edge}/v1/imports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'u_e2e' },
        body: JSON.stringify({ broker: 'binance', symbol: 'BTCUSDT', pages: 1 }),
      });
      expect(res.status).toBe(202);

      // The bubble: the reflection on the user's WebSocket, its envelope carrying the trace.
      const bubble = await until('reflection on the WebSocket', () =>
        got.find((e) => e.type === 'coach.reflection'),
      );
      expect(bubble.payload).toMatchObject({ userId: 'u_e2e', text: expect.any(String) });
      const origin = parseTraceParent(bubble._trace?.traceparent)!;
      expect(origin).toBeDefined();

      // Every span of the journey (each process exports on its own schedule).
      const want = count(JOURNEY);
      await receiver.waitForSpans(
        (spans) =>
          spans.filter((s) => s.traceId === origin.traceId).length >= want &&
          spans.filter(
            (s) => s.name === 'WS send' && s.links.some((l) => l.traceId === origin.traceId),
          ).length >= 2,
        60_000,
      );
      expect(receiver.decodeErrors).toEqual([]);
      const trace = receiver.spans.filter((s) => s.traceId === origin.traceId);
      const roots = trace.filter((s) => s.parentSpanId === '');
      expect(roots.map((s) => s.name)).toEqual(['HTTP /v1/imports']);
      // One trace id, the exact parent chain, the spec's names, each span from its own process.
      expect(treeOf(roots[0]!, trace)).toEqual(JOURNEY);
      expect(trace).toHaveLength(want);

      // The bubble's envelope points at the outbox.append under the scoring job.
      const appends = trace.filter((s) => s.name === 'outbox.append');
      const reflectionAppend = appends.find((a) => {
        const http = trace.find((s) => s.spanId === a.parentSpanId)!;
        const client = trace.find((s) => s.spanId === http.parentSpanId)!;
        return trace.find((s) => s.spanId === client.parentSpanId)?.name === 'process q_score';
      })!;
      expect(origin.spanId).toBe(reflectionAppend.spanId);

      // Delivery: Core's SSE send and Edge's WS send of each event (progress,
      // reflection) are short traces of their own, linked to its outbox.append.
      for (const [service, name] of [
        ['core', 'SSE send'],
        ['edge', 'WS send'],
      ] as const) {
        const sends = receiver.spans.filter(
          (s) => s.name === name && s.links.some((l) => l.traceId === origin.traceId),
        );
        expect(sends.map((s) => s.links.map((l) => l.spanId)).sort(), `${name} links`).toEqual(
          appends.map((a) => [a.spanId]).sort(),
        );
        for (const send of sends) {
          expect(send.resource['service.name'], name).toBe(service);
          expect(send.kind, name).toBe(KIND.PRODUCER);
          expect(send.traceId, name).not.toBe(origin.traceId);
        }
      }
      expect(got.map((e) => e.type).sort()).toEqual(['coach.reflection', 'import.progress']);

      // The jobs went through the real Redis, under this run's prefix.
      const redis = new Redis({ ...DEMO_REDIS, maxRetriesPerRequest: 1 });
      try {
        expect(await redis.keys(`${stack.prefix}:q_import:*`)).not.toEqual([]);
        expect(await redis.keys(`${stack.prefix}:q_score:*`)).not.toEqual([]);
      } finally {
        redis.disconnect();
      }
    } finally {
      socket.terminate();
    }
  });

  it('resumes Edge’s SSE stream after a connection reset, inside an events.replay span, and keeps delivering', async () => {
    const { socket, got } = await openCoach('u_replay');
    try {
      const before = receiver.spans.filter((x) => x.name === 'events.replay').length;
      expect(stack.cutEdgeToCore()).toBeGreaterThan(0);
      const [replay] = (
        await receiver.waitForSpans(
          (spans) => spans.filter((x) => x.name === 'events.replay').length > before,
          60_000,
        )
      )
        .filter((x) => x.name === 'events.replay')
        .slice(before);
      expect(replay!.resource['service.name']).toBe('edge');
      expect(replay!.kind).toBe(KIND.CLIENT);
      // Edge asks for what came after the last event it saw (both of the journey's, at least).
      expect(Number(replay!.attributes['events.last_event_id'])).toBeGreaterThanOrEqual(2);
      expect(['network', 'ended']).toContain(replay!.attributes['events.reconnect.reason']);

      // The stream goes on: an event written now reaches the user's WebSocket.
      const res = await fetch(`${stack.urls.core}/internal/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'coach.reflection',
          payload: { userId: 'u_replay', text: 'after the reset' },
        }),
      });
      expect(res.status).toBe(201);
      const bubble = await until('event after the reset', () =>
        got.find((e) => e.type === 'coach.reflection'),
      );
      expect(bubble.payload).toEqual({ userId: 'u_replay', text: 'after the reset' });
    } finally {
      socket.terminate();
    }
  });

  it('passes the spec probes (examples/probes/spec-probes.ts), and fails them when the journey breaks', async () => {
    Object.assign(process.env, {
      EDGE_URL: stack.urls.edge,
      CORE_URL: stack.urls.core,
      AI_COACH_URL: stack.urls.ai,
      PROBE_USER: 'u_probe',
      PROBE_PASSWORD: 'correct horse',
      // The demo AI Coach's indicators of the fixture: a change of the model changes this hash.
      AI_FIXTURE_SHA256: FIXTURE_SHA256,
    });
    const { default: config } = await import('../../examples/probes/spec-probes.js');
    expect(config.probes.map((p) => p.name)).toEqual(['login', 'import', 'reflect', 'ai']);
    const telemetry: Telemetry = init({
      service: 'prober',
      logging: { level: 'silent' },
      metrics: { defaultMetrics: false },
      tracing: { enabled: false },
    });
    try {
      // Thresholds are the spec's speed objectives; here only correctness is asserted.
      const runner = createProbeRunner(telemetry, {
        probes: config.probes.map((p) => ({ ...p, thresholdMs: 60_000, timeoutMs: 60_000 })),
      });
      const passed = await runner.runOnce();
      expect(passed.map((r) => [r.probe, r.success, r.reason])).toEqual([
        ['login', true, undefined],
        ['import', true, undefined],
        ['reflect', true, undefined],
        ['ai', true, undefined],
      ]);

      // Probe traffic is synthetic: counted apart from Edge's SLI metrics.
      const edgeMetrics = await (await fetch(stack.metrics.edge)).text();
      expect(edgeMetrics).toMatch(
        /^http_synthetic_requests_total\{route="\/v1\/login",method="POST",code="200"[^}]*\} [1-9]/m,
      );
      expect(edgeMetrics).not.toMatch(/^http_requests_total\{[^}]*route="\/v1\/login"/m);

      // A wrong password, a changed model output: those two probes fail, with why.
      process.env['PROBE_PASSWORD'] = 'wrong';
      process.env['AI_FIXTURE_SHA256'] = '0'.repeat(64);
      const broken = await runner.runOnce();
      expect(broken.map((r) => [r.probe, r.success, r.reason])).toEqual([
        ['login', false, 'login: status 401'],
        ['import', true, undefined],
        ['reflect', true, undefined],
        ['ai', false, `indicators changed: sha256 ${FIXTURE_SHA256}, expected ${'0'.repeat(64)}`],
      ]);
    } finally {
      await telemetry.shutdown();
    }
  });
});

/** sha256 of the demo AI Coach's `/v1/indicators` answer for the probe's fixture (BTCUSDT). */
const FIXTURE_SHA256 = 'c08f554a18f40e8e20bdf64c921974d88e09dee8492aa76e321ef8552946d421';
