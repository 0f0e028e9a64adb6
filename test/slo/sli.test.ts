import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { stacklightMiddleware } from '../../src/express.js';
import { stacklightPlugin } from '../../src/fastify.js';
import { createDigestRecorder } from '../../src/slo/digest.js';
import { isSyntheticBaggage } from '../../src/middleware/synthetic.js';
import { portOf, setupTelemetry, type Harness } from '../middleware/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.telemetry.shutdown();
  h = undefined;
});

describe('probe traffic (baggage synthetic=true)', () => {
  it('is counted in http_synthetic_requests_total and left out of the SLI metrics (Fastify)', async () => {
    h = setupTelemetry();
    const app = Fastify();
    await app.register(stacklightPlugin, { telemetry: h.telemetry });
    app.get('/login', async () => ({ ok: true }));
    await app.ready();
    await app.inject({ url: '/login', headers: { baggage: 'tenant=a, synthetic=true;ttl=1' } });
    await app.inject({ url: '/login' });
    await app.inject({ url: '/login', headers: { baggage: 'synthetic=false' } });
    const m = h.telemetry.metrics;
    expect(m.httpSyntheticRequestsTotal.read({ route: '/login', method: 'GET', code: '200' })).toBe(
      1,
    );
    expect(m.httpRequestsTotal.read({ route: '/login', method: 'GET', code: '200' })).toBe(2);
    expect(
      m.httpRequestDurationSeconds.read({ route: '/login', method: 'GET', code: '200' }).count,
    ).toBe(2);
    // Its request line is still written.
    expect(h.requestLines()).toHaveLength(3);
    await app.close();
  });

  it('is left out of the SLI metrics through Express too', async () => {
    h = setupTelemetry();
    const app = express();
    app.use(stacklightMiddleware(h.telemetry));
    app.get('/login', (_req, res) => {
      res.status(503).end();
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${portOf(server)}/login`;
    await fetch(url, { headers: { baggage: 'synthetic=true' } });
    await fetch(url);
    const m = h.telemetry.metrics;
    expect(m.httpSyntheticRequestsTotal.read({ route: '/login', method: 'GET', code: '503' })).toBe(
      1,
    );
    expect(m.httpRequestsTotal.read({ route: '/login', method: 'GET', code: '503' })).toBe(1);
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('reads the baggage member exactly', () => {
    expect(isSyntheticBaggage('synthetic=true')).toBe(true);
    expect(isSyntheticBaggage(['a=1', ' synthetic = true ;p=1'])).toBe(true);
    expect(isSyntheticBaggage('notsynthetic=true')).toBe(false);
    expect(isSyntheticBaggage('synthetic=truer')).toBe(false);
    expect(isSyntheticBaggage(undefined)).toBe(false);
  });
});

describe('weekly digest recorder', () => {
  it('counts recipients and on-time, late and failed digests against Monday 09:00 UTC', () => {
    h = setupTelemetry();
    let now = Date.parse('2026-12-07T08:59:00Z'); // a Monday, one minute before the deadline
    const digests = createDigestRecorder(h.telemetry, { now: () => now });
    digests.due(3);
    expect(digests.delivered()).toBe('on_time');
    now = Date.parse('2026-12-07T09:01:00Z');
    expect(digests.delivered()).toBe('late');
    digests.failed();
    const m = h.telemetry.metrics;
    expect(m.digestRecipientsTotal.read()).toBe(3);
    expect(m.digestDeliveriesTotal.read({ outcome: 'on_time' })).toBe(1);
    expect(m.digestDeliveriesTotal.read({ outcome: 'late' })).toBe(1);
    expect(m.digestDeliveriesTotal.read({ outcome: 'failed' })).toBe(1);
    // A digest of the week of Sunday 6 Dec is due the next morning.
    expect(new Date(digests.deadlineFor(Date.parse('2026-12-06T12:00:00Z'))).toISOString()).toBe(
      '2026-12-07T09:00:00.000Z',
    );
  });

  it('exports every outcome at 0 from the start, so rate() counts the first run’s digests', async () => {
    h = setupTelemetry();
    createDigestRecorder(h.telemetry);
    const text = await h.telemetry.metricsText();
    for (const outcome of ['on_time', 'late', 'failed'])
      expect(text).toMatch(
        new RegExp(`^digest_deliveries_total\\{[^}]*outcome="${outcome}"[^}]*\\} 0$`, 'm'),
      );
  });

  it('names a bad deadline option', () => {
    h = setupTelemetry();
    expect(() => createDigestRecorder(h!.telemetry, { deadlineHourUtc: 24 })).toThrow(
      'digest.deadlineHourUtc must be an integer in [0, 23], got 24',
    );
  });
});
