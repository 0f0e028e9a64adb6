/**
 * Every exit, end to end, for the two scenarios a new user tries first:
 *
 * - a Fastify route that throws `new Error(\`no user ${id} (postgres://app:hunter2@db/app)\`)`
 *   for `GET /users/bob@example.com`;
 * - `withSpan` attributes `db.password`, `user.email` and a URL with
 *   `?token=`, and the same e-mail as a metric label value.
 *
 * Exits read as a user's backends would: OTLP bytes at a local receiver, the
 * Sentry envelope at a local fake ingest, the `/metrics` text, the log
 * stream. In production mode (no stack traces).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { init, withSpan, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { startOtlpReceiver, type OtlpReceiver, type OtlpSpan } from '../helpers/otlp-receiver.js';
import { startSentryIngest, type SentryIngest } from '../helpers/sentry-ingest.js';

const EMAIL = 'bob@example.com';
const DB_PASSWORD = 'hunter2';
const WS_PASSWORD = 'ws-db-pw-7731';
const WS_EMAIL = 'lee.q@example.org';
const WS_TOKEN = 'ws-url-tok-5529';
const SECRETS = [EMAIL, DB_PASSWORD, WS_PASSWORD, WS_EMAIL, WS_TOKEN, 'bob%40example.com'];

let receiver: OtlpReceiver;
let ingest: SentryIngest;
let telemetry: Telemetry;
let app: FastifyInstance;
const logs = createLogCapture();
let metricsText = '';

/** Every string of a decoded span: name, attribute keys and values, events, links, status. */
function spanText(s: OtlpSpan): string {
  return JSON.stringify(
    { name: s.name, a: s.attributes, e: s.events, l: s.links, st: s.status },
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
}

function expectClean(where: string, text: string): void {
  for (const secret of SECRETS) expect(text, `${secret} in ${where}`).not.toContain(secret);
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  ingest = await startSentryIngest();
  telemetry = init({
    service: 'edge',
    env: 'production',
    logging: { destination: logs.stream },
    metrics: { defaultMetrics: false },
    sentry: { dsn: ingest.url },
    tracing: { endpoint: receiver.url, scheduledDelayMs: 20 },
  });
  await telemetry.ready();
  const t = telemetry;
  app = Fastify();
  await app.register(stacklightPlugin, { telemetry: t });
  app.get<{ Params: { id: string } }>('/users/:id', async (req) => {
    const id = req.params.id;
    throw new Error(`no user ${id} (postgres://app:${DB_PASSWORD}@db/app)`);
  });
  app.get('/report', async () => {
    t.metrics.vendor429Total.inc({ vendor: WS_EMAIL });
    return withSpan(
      'build report',
      {
        'db.password': WS_PASSWORD,
        'user.email': WS_EMAIL,
        'url.full': `https://api.example.io/r?token=${WS_TOKEN}&page=1`,
      },
      () => ({ ok: true }),
    );
  });
  await app.ready();

  const failed = await app.inject({ url: `/users/${EMAIL}` });
  expect(failed.statusCode).toBe(500);
  const ok = await app.inject({ url: '/report' });
  expect(ok.statusCode).toBe(200);
  await receiver.waitForSpans(
    (spans) =>
      spans.some((s) => s.name === 'build report') &&
      spans.some((s) => s.name === 'HTTP /users/:id'),
  );
  metricsText = await t.metricsText();
  await app.close();
  await t.shutdown();
}, 30_000);

afterAll(async () => {
  await receiver?.close();
  await ingest?.close();
});

describe('no secret leaves by any exit', () => {
  it('OTLP: the server span, its exception event and status carry no secret and no stack', () => {
    const server = receiver.spans.find((s) => s.name === 'HTTP /users/:id')!;
    expect(server).toBeDefined();
    const exception = server.events.find((e) => e.name === 'exception')!;
    expect(exception.attributes['exception.message']).toBe(
      'no user [EMAIL] (postgres://[REDACTED]@db/app)',
    );
    expect(exception.attributes).not.toHaveProperty('exception.stacktrace');
    expect(server.status.message).toBe('no user [EMAIL] (postgres://[REDACTED]@db/app)');
    for (const s of receiver.spans) expectClean(`span ${s.name}`, spanText(s));
  });

  it('OTLP: withSpan attributes are scrubbed by key and by value', () => {
    const span = receiver.spans.find((s) => s.name === 'build report')!;
    expect(span.attributes).toMatchObject({
      'db.password': '[REDACTED]',
      'user.email': '[EMAIL]',
      'url.full': 'https://api.example.io/r?token=[REDACTED]&page=1',
    });
  });

  it('Sentry: the envelope carries the error without a secret', () => {
    const all = ingest.bodies.join('\n');
    expect(all).toContain('no user [EMAIL]');
    expectClean('the Sentry envelopes', all);
  });

  it('/metrics: the e-mail label value became [REDACTED], and was counted', () => {
    expect(metricsText).toContain('vendor_429_total{vendor="[REDACTED]",service="edge"} 1');
    expect(metricsText).toContain(
      'stacklight_label_values_redacted_total{metric="vendor_429_total",service="edge"} 1',
    );
    expectClean('/metrics', metricsText);
  });

  it('logs: every line is clean, and the failure is logged scrubbed', () => {
    const text = logs.text();
    expectClean('the log stream', text);
    const failed = logs.lines().find((l) => l['msg'] === 'request failed');
    expect(JSON.stringify(failed)).toContain('no user [EMAIL] (postgres://[REDACTED]@db/app)');
  });
});
