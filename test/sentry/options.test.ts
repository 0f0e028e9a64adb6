import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { init, type Telemetry } from '../../src/index.js';
import { flushSentry, sentryInstalled, sentryMode } from '../../src/logging/sentry.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { sentryEvents, startSentryIngest, type SentryIngest } from '../helpers/sentry-ingest.js';

/**
 * stacklight creating the Sentry client: options passed through, captures
 * before ready() queued, onError never turning capture off.
 */

let ingest: SentryIngest | undefined;
let telemetry: Telemetry | undefined;

afterEach(async () => {
  await telemetry?.shutdown();
  await ingest?.close();
  telemetry = undefined;
  ingest = undefined;
});

async function start(sentry: Record<string, unknown> = {}): Promise<SentryIngest> {
  const i = await startSentryIngest();
  ingest = i;
  telemetry = init({
    service: 'core',
    env: 'staging',
    version: '4.5.6',
    sentry: { dsn: i.url, ...sentry },
    tracing: { exporter: 'none' },
    logging: { destination: createLogCapture().stream },
    shutdown: { handleCrashes: false },
  });
  return i;
}

describe('Sentry created by stacklight', () => {
  it('sends an error captured right after init(), before ready(), with the id it returned', async () => {
    const i = await start();
    expect(sentryMode()).toBe('starting');
    const id = telemetry!.captureException(new Error('early failure for ann@example.com'));
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    await telemetry!.ready();
    await flushSentry(2000);
    const events = sentryEvents(i.bodies);
    expect(events).toHaveLength(1);
    expect(events[0]!.event_id).toBe(id);
    expect(events[0]!.exception?.values?.[0]?.value).not.toContain('ann@example.com');
    expect(events[0]!.environment).toBe('staging');
    expect(events[0]!.release).toBe('4.5.6');
  });

  it("passes Sentry's own options through; beforeSend sees the scrubbed event", async () => {
    const seen: string[] = [];
    const i = await start({
      options: {
        environment: 'eu-prod',
        release: 'core@9',
        ignoreErrors: [/ignored on purpose/],
        beforeSend: (event: { exception?: { values?: { value?: string }[] } }) => {
          seen.push(event.exception?.values?.[0]?.value ?? '');
          return event;
        },
      },
    });
    await telemetry!.ready();
    telemetry!.captureException(new Error('ignored on purpose'));
    telemetry!.captureException(new Error('token Bearer abcdefghijklmnop0123 for bob@example.com'));
    await flushSentry(2000);
    const events = sentryEvents(i.bodies);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ environment: 'eu-prod', release: 'core@9' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toContain('bob@example.com');
    expect(seen[0]).not.toContain('abcdefghijklmnop0123');
  });

  it('applies sentry.sampleRate (0 sends nothing)', async () => {
    const i = await start({ sampleRate: 0 });
    await telemetry!.ready();
    telemetry!.captureException(new Error('sampled out'));
    await flushSentry(2000);
    expect(sentryEvents(i.bodies)).toHaveLength(0);
  });

  it('rejects dsn and sampleRate inside sentry.options, naming the option to use', () => {
    expect(() =>
      init({ service: 's', sentry: { options: { sampleRate: 0.5 } }, tracing: { enabled: false } }),
    ).toThrow('stacklight: sentry.options.sampleRate must be left unset (use sentry.sampleRate)');
    expect(() =>
      init({ service: 's', sentry: { options: [] as never }, tracing: { enabled: false } }),
    ).toThrow("stacklight: sentry.options must be an object of Sentry's init options");
  });

  it('captures a 5xx to Sentry when an onError hook is given too', async () => {
    const i = await start();
    const app = Fastify();
    const hooked: string[] = [];
    await app.register(stacklightPlugin, {
      telemetry: telemetry!,
      onError: (err) => hooked.push((err as Error).message),
    });
    app.get('/boom', async () => {
      throw new Error('handler exploded');
    });
    // No ready(): the first 5xx right after start is queued, not dropped.
    const res = await app.inject({ method: 'GET', url: '/boom' });
    expect(res.statusCode).toBe(500);
    expect(hooked).toEqual(['handler exploded']);
    await telemetry!.ready();
    await flushSentry(2000);
    const events = sentryEvents(i.bodies);
    expect(events.map((e) => e.exception?.values?.[0]?.value)).toEqual(['handler exploded']);
    expect(events[0]!.tags).toMatchObject({ route: '/boom', service: 'core' });
    await app.close();
  });

  it('finds @sentry/node through a resolver, and reports it missing when resolution fails', () => {
    expect(sentryInstalled()).toBe(true);
    expect(
      sentryInstalled(() => {
        throw Object.assign(new Error('Cannot find module'), { code: 'MODULE_NOT_FOUND' });
      }),
    ).toBe(false);
  });
});
