import * as Sentry from '@sentry/node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { sentryMode } from '../../src/logging/sentry.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { sentryEvents, startSentryIngest, type SentryIngest } from '../helpers/sentry-ingest.js';

/**
 * A service that called Sentry.init itself: stacklight joins that client
 * (no second init, no "called more than once"), scrubs its events and adds
 * its tags, and leaves the client open at shutdown.
 */

let ingest: SentryIngest;
let telemetry: Telemetry;
let client: ReturnType<typeof Sentry.init>;
const appSaw: string[] = [];
const warn = vi.spyOn(console, 'warn');

beforeAll(async () => {
  ingest = await startSentryIngest();
  client = Sentry.init({
    dsn: ingest.url,
    defaultIntegrations: false,
    beforeSend(event) {
      appSaw.push(event.exception?.values?.[0]?.value ?? '');
      return event;
    },
  });
  telemetry = init({
    service: 'worker',
    env: 'prod',
    tracing: { exporter: 'none' },
    logging: { destination: createLogCapture().stream },
    shutdown: { handleCrashes: false },
  });
  await telemetry.ready();
});

afterAll(async () => {
  await Sentry.close(2000);
  await ingest.close();
});

describe('joining an existing Sentry client', () => {
  it('keeps the service’s client and scrubs what goes through it', async () => {
    expect(sentryMode()).toBe('joined');
    expect(Sentry.getClient()).toBe(client);
    telemetry.captureException(new Error('via stacklight for carol@example.com'));
    Sentry.captureException(new Error('via the app with Bearer zyxwvutsrqponm987654'));
    await Sentry.flush(2000);
    const events = sentryEvents(ingest.bodies);
    expect(events).toHaveLength(2);
    const text = JSON.stringify(events);
    expect(text).not.toContain('carol@example.com');
    expect(text).not.toContain('zyxwvutsrqponm987654');
    // The app's own beforeSend runs after stacklight's scrubbing.
    expect(appSaw.join(' ')).not.toContain('carol@example.com');
    for (const e of events) expect(e.tags).toMatchObject({ service: 'worker', env: 'prod' });
    expect(warn.mock.calls.flat().join(' ')).not.toMatch(/more than once/i);
  });

  it('flushes but does not close the service’s client at shutdown', async () => {
    await telemetry.shutdown();
    expect(Sentry.getClient()).toBe(client);
    Sentry.captureException(new Error('after stacklight shut down'));
    await Sentry.flush(2000);
    expect(sentryEvents(ingest.bodies).map((e) => e.exception?.values?.[0]?.value)).toContain(
      'after stacklight shut down',
    );
  });
});
