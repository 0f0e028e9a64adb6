import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { startSentryIngest, type SentryIngest } from '../helpers/sentry-ingest.js';

/**
 * End to end: init() with a Sentry DSN pointing at a local ingest, the
 * Fastify plugin, a handler that throws with secrets around. The real
 * envelope must carry the request id, the trace id, service and env, and
 * none of the secrets.
 */

const SECRETS = {
  email: 'jane.doe@example.com',
  bearer: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl',
  cookie: 'sid=s3cr3t-session-cookie-value',
  apiKey: 'sk_live_0123456789abcdefSECRET',
};

let ingest: SentryIngest;
let telemetry: Telemetry;
const logs = createLogCapture();

beforeAll(async () => {
  ingest = await startSentryIngest();
  telemetry = init({
    service: 'edge',
    env: 'staging',
    sentry: { dsn: ingest.url },
    tracing: { exporter: 'none' },
    logging: { destination: logs.stream },
  });
});

afterAll(async () => {
  await telemetry?.shutdown();
  await ingest?.close();
  logs.lines(); // every line written, shutdown included, validates against the log schema
});

describe('Sentry through init() and the HTTP middleware', () => {
  it('receives a thrown request error tagged with request id and trace id, without secrets', async () => {
    await telemetry.ready(); // Sentry is loaded lazily
    const app = Fastify();
    await app.register(stacklightPlugin, { telemetry });
    app.post('/trades/import', async () => {
      throw new Error(`import failed for ${SECRETS.email} with ${SECRETS.bearer}`);
    });
    const res = await app.inject({
      method: 'POST',
      url: '/trades/import?email=' + encodeURIComponent(SECRETS.email),
      headers: {
        authorization: SECRETS.bearer,
        'x-api-key': SECRETS.apiKey,
        cookie: SECRETS.cookie,
        'x-request-id': 'req-sentry-1',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      payload: { password: 'hunter2', email: SECRETS.email },
    });
    expect(res.statusCode).toBe(500);
    // Close flushes the queued event to the ingest.
    await telemetry.shutdown();
    const all = ingest.bodies.join('\n');
    const eventLine = all
      .split('\n')
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return undefined;
        }
      })
      .find((o) => o !== undefined && 'exception' in o) as
      { tags?: Record<string, string>; exception?: unknown } | undefined;
    expect(eventLine, 'an error event reached the ingest').toBeDefined();
    expect(eventLine!.tags).toMatchObject({
      service: 'edge',
      env: 'staging',
      requestId: 'req-sentry-1',
      route: '/trades/import',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
    });
    expect(JSON.stringify(eventLine!.exception)).toContain('import failed for');
    for (const secret of [
      SECRETS.email,
      'hunter2',
      SECRETS.cookie,
      SECRETS.apiKey,
      SECRETS.bearer.slice(7),
    ]) {
      expect(all).not.toContain(secret);
    }
    // Logged once, on the request line, with the same redaction.
    const failed = logs.lines().filter((l) => l.msg === 'request failed');
    expect(failed).toHaveLength(1);
    expect(JSON.stringify(failed[0])).not.toContain(SECRETS.email);
  });
});
