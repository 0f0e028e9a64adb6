/**
 * What a service author does with Sentry's own API and with errors that
 * carry their cause: `Sentry.setUser`, `Sentry.setContext`, a transaction
 * name, `extra`, an `Error` whose `cause` holds secrets under any key. What
 * reaches the (local, fake) ingest and the log line is scrubbed, and `user`
 * is reduced to its id.
 */
import type * as Sentry from '@sentry/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture, type LogCapture } from '../helpers/log-capture.js';
import { sentryEvents, startSentryIngest, type SentryIngest } from '../helpers/sentry-ingest.js';

const SECRET = {
  email: 'victim.user@example.org',
  password: 'pw-Hunter2-cause',
  token: 'tok_live_9f8e7d6c5b4a39281706',
  bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ',
  ip: '203.0.113.77',
  username: 'victim_username_77',
};

/** A failing call whose cause carries what the upstream client had at hand. */
function upstreamFailure(): Error {
  return new Error('upstream call failed', {
    cause: {
      request: { headers: { authorization: `Bearer ${SECRET.bearer}` } },
      password: SECRET.password,
      credentials: { apiToken: SECRET.token },
      note: `account of ${SECRET.email}`,
      status: 502,
    },
  });
}

type SentryApi = typeof Sentry;

let ingest: SentryIngest;
let telemetry: Telemetry;
let logs: LogCapture;

beforeAll(async () => {
  ingest = await startSentryIngest();
  logs = createLogCapture();
  telemetry = init({
    service: 'core',
    env: 'test',
    sentry: { dsn: ingest.url },
    tracing: { exporter: 'none' },
    logging: { destination: logs.stream },
  });
  await telemetry.ready(); // Sentry is loaded lazily
});

afterAll(async () => {
  await telemetry?.shutdown();
  await ingest?.close();
  logs.lines();
});

beforeEach(async () => {
  const Sentry = await import('@sentry/node');
  Sentry.setUser(null);
  Sentry.setContext('account', null);
  Sentry.getCurrentScope().setTransactionName(undefined);
  ingest.bodies.length = 0;
});

/** Sends one event through Sentry's own API and returns it as the ingest got it, raw and parsed. */
async function sent(
  capture: (sentry: SentryApi) => void,
): Promise<{ raw: string; event: ReturnType<typeof sentryEvents>[number] }> {
  const Sentry = await import('@sentry/node');
  capture(Sentry);
  expect(await Sentry.flush(5000)).toBe(true);
  const raw = ingest.bodies.join('\n');
  const [event] = sentryEvents(ingest.bodies);
  expect(event, 'an event reached the ingest').toBeDefined();
  return { raw, event: event! };
}

function expectNoSecret(raw: string): void {
  for (const [what, secret] of Object.entries(SECRET)) expect(raw, what).not.toContain(secret);
}

describe('Sentry events set up through Sentry’s own API', () => {
  it('reduces setUser to the user id', async () => {
    const { raw, event } = await sent((Sentry) => {
      Sentry.setUser({
        id: 'u_42',
        email: SECRET.email,
        username: SECRET.username,
        ip_address: SECRET.ip,
      });
      Sentry.captureException(new Error('checkout failed'));
    });
    expect(event.user).toEqual({ id: 'u_42' });
    expectNoSecret(raw);
  });

  it('scrubs setContext: secret keys, e-mails and tokens in values', async () => {
    const { raw, event } = await sent((Sentry) => {
      Sentry.setContext('account', {
        plan: 'pro',
        email: SECRET.email,
        password: SECRET.password,
        apiToken: SECRET.token,
        lastHeader: `Bearer ${SECRET.bearer}`,
      });
      Sentry.captureException(new Error('plan change failed'));
    });
    expect(event.contexts?.['account']).toMatchObject({
      plan: 'pro',
      password: '[REDACTED]',
      apiToken: '[REDACTED]',
    });
    expectNoSecret(raw);
  });

  it('scrubs the transaction name', async () => {
    const { raw, event } = await sent((Sentry) => {
      Sentry.getCurrentScope().setTransactionName(
        `POST /reset?email=${SECRET.email}&token=${SECRET.token}`,
      );
      Sentry.captureException(new Error('reset failed'));
    });
    expect(event.transaction).toContain('POST /reset');
    expectNoSecret(raw);
  });

  it('scrubs an Error whose cause holds secrets under any key, passed in extra', async () => {
    const { raw, event } = await sent((Sentry) => {
      Sentry.captureException(new Error('order failed'), {
        extra: { upstream: upstreamFailure(), attempt: 2 },
      });
    });
    expect(event.extra).toMatchObject({ attempt: 2 });
    expect(JSON.stringify(event.extra)).toContain('upstream call failed');
    expectNoSecret(raw);
  });

  it('scrubs the cause of the captured error itself', async () => {
    const { raw, event } = await sent((Sentry) => {
      Sentry.captureException(upstreamFailure());
    });
    expect(JSON.stringify(event.exception)).toContain('upstream call failed');
    expectNoSecret(raw);
  });
});

describe('log lines with an Error outside the err field', () => {
  it('scrubs the cause of an Error logged under any key', () => {
    telemetry.logger.warn(
      { upstream: upstreamFailure(), nested: { failure: upstreamFailure() } },
      'retrying',
    );
    const line = logs.lines().find((l) => l.msg === 'retrying');
    expect(line, 'the line was written').toBeDefined();
    const text = JSON.stringify(line);
    expect(text).toContain('upstream call failed');
    expect(text).toContain('502'); // the harmless part of the cause is kept
    expectNoSecret(text);
  });

  it('scrubs the cause of the err field', () => {
    telemetry.logger.error({ err: upstreamFailure() }, 'gave up');
    const line = logs.lines().find((l) => l.msg === 'gave up');
    expect(line, 'the line was written').toBeDefined();
    const text = JSON.stringify(line);
    expect(text).toContain('upstream call failed');
    expectNoSecret(text);
  });
});
