/**
 * The spec's four synthetic probes (login, import, reflect, AI fixture hash)
 * as a `stacklight probe` configuration, written against the demo's
 * services (examples/demo). Every request carries the run's `traceparent`
 * and `baggage: synthetic=true`, so the services count it in
 * `http_synthetic_requests_total`, not in their SLIs.
 *
 * Run one round (exit code 1 when a probe fails):
 *   node --import tsx src/cli.ts probe --config examples/probes/spec-probes.ts --once
 * or keep them running with /metrics on :9465 (probe_success, probe_duration_seconds):
 *   node --import tsx src/cli.ts probe --config examples/probes/spec-probes.ts
 *
 * Environment: EDGE_URL, CORE_URL, AI_COACH_URL (the services, defaults as
 * when each demo service runs alone), PROBE_USER, PROBE_PASSWORD (the
 * demo's is "correct horse"), AI_FIXTURE_SHA256 (the expected hash of the
 * indicators of the fixture; unset: not compared). Adapt the paths to your
 * services.
 */
import { createHash } from 'node:crypto';
import { WebSocket } from 'ws';
import type { ProbeContext, ProbeDefinition, ProbeRunnerOptions } from '../../src/index.js';

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const EDGE = env('EDGE_URL', 'http://127.0.0.1:3001');
const CORE = env('CORE_URL', 'http://127.0.0.1:3002');
const AI = env('AI_COACH_URL', 'http://127.0.0.1:8000');
/** The synthetic user: its WebSocket gets the reflect probe's event, nobody else's does. */
const user = () => env('PROBE_USER', 'probe');
const json = { 'content-type': 'application/json' };

async function ok(res: Response, what: string): Promise<unknown> {
  if (!res.ok) throw new Error(`${what}: status ${res.status}`);
  return res.json();
}

/** Login probe: a scripted user logs in; expects 200 within 250 ms. */
const login: ProbeDefinition = {
  name: 'login',
  thresholdMs: 250,
  run: async ({ fetch }) => {
    await ok(
      await fetch(`${EDGE}/v1/login`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ userId: user(), password: env('PROBE_PASSWORD', '') }),
      }),
      'login',
    );
  },
};

/** Import probe: the mock broker returns a page of 50 trades; the import reaches 100 % within 60 s. */
const importTrades: ProbeDefinition = {
  name: 'import',
  thresholdMs: 60_000,
  timeoutMs: 90_000,
  run: async ({ fetch, signal }) => {
    const { jobId } = (await ok(
      await fetch(`${EDGE}/v1/imports`, {
        method: 'POST',
        headers: { ...json, 'x-user-id': user() },
        body: JSON.stringify({ broker: 'binance', symbol: 'BTCUSDT', pages: 1 }),
      }),
      'start import',
    )) as { jobId: string };
    while (!signal.aborted) {
      const { progress } = (await ok(
        await fetch(`${EDGE}/v1/imports/${encodeURIComponent(jobId)}`),
        'import progress',
      )) as { progress: number };
      if (progress >= 100) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  },
};

/** Reflect probe: write an outbox event for the probe user; Edge's WebSocket delivers it within 3 s. */
const reflect: ProbeDefinition = {
  name: 'reflect',
  thresholdMs: 3000,
  timeoutMs: 5000,
  run: ({ fetch, headers, signal }: ProbeContext) =>
    new Promise<void>((resolve, reject) => {
      const nonce = createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 16);
      const socket = new WebSocket(`${EDGE.replace(/^http/, 'ws')}/v1/coach`, {
        headers: { ...headers, 'x-user-id': user() },
      });
      const done = (error?: Error) => {
        socket.terminate();
        if (error) reject(error);
        else resolve();
      };
      signal.addEventListener('abort', () => done(new Error('no reflection received')));
      socket.on('error', (error) => done(error));
      socket.on('message', (data) => {
        if (String(data).includes(nonce)) done();
      });
      socket.on('open', () => {
        fetch(`${CORE}/internal/events`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            type: 'coach.reflection',
            payload: { userId: user(), probe: nonce },
          }),
        })
          .then((res) => {
            if (!res.ok) done(new Error(`outbox event: status ${res.status}`));
          })
          .catch((error: Error) => done(error));
      });
    }),
};

/** AI probe: indicators on a fixture; the hash of the output must not change. */
const ai: ProbeDefinition = {
  name: 'ai',
  thresholdMs: 1500,
  run: async ({ fetch }) => {
    const fixture = { symbol: 'BTCUSDT', closes: [100, 101, 102, 101, 103, 104, 102, 105] };
    const output = await ok(
      await fetch(`${AI}/v1/indicators`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(fixture),
      }),
      'indicators',
    );
    const hash = createHash('sha256').update(JSON.stringify(output)).digest('hex');
    const expected = process.env['AI_FIXTURE_SHA256'];
    if (expected !== undefined && hash !== expected)
      throw new Error(`indicators changed: sha256 ${hash}, expected ${expected}`);
  },
};

export default {
  intervalMs: 30_000,
  probes: [login, importTrades, reflect, ai],
} satisfies ProbeRunnerOptions;
