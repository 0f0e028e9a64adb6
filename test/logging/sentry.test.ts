import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import { context, trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWithContext } from '../../src/context.js';
import { createRedactor } from '../../src/logging/index.js';
import { sentryEvents, startSentryIngest } from '../helpers/sentry-ingest.js';
import {
  captureException,
  closeSentry,
  flushSentry,
  initSentry,
} from '../../src/logging/sentry.js';

const startIngest = startSentryIngest;
const events = sentryEvents;

describe('Sentry', () => {
  let ingest: Awaited<ReturnType<typeof startIngest>>;
  const provider = new BasicTracerProvider();
  const httpRequest = http.request;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
    ingest = await startIngest();
    const ok = await initSentry({
      dsn: ingest.url,
      service: 'core',
      env: 'test',
      release: '1.2.3',
      redactor: createRedactor(),
    });
    expect(ok).toBe(true);
  });

  afterAll(async () => {
    await closeSentry();
    await ingest.close();
    trace.disable();
    context.disable();
  });

  it('sends redacted events tagged with service, env, requestId and the trace id', async () => {
    const Sentry = await import('@sentry/node');
    Sentry.addBreadcrumb({
      message: 'lookup zed@example.com',
      data: { authorization: 'Bearer crumbSecret99', step: 'crumb-step' },
    });
    const err = new Error('login failed for mallory@example.com with Bearer s3cr3tBearerToken');
    const { traceId, eventId } = trace
      .getTracer('t')
      .startActiveSpan('HTTP POST /login', (span) => {
        const id = runWithContext({ requestId: 'req-42', route: '/login' }, () =>
          captureException(err, {
            request: {
              method: 'POST',
              url: 'https://admin:urlpass@api.example.io/login?token=qs-secret&page=1',
              headers: {
                Authorization: 'Bearer hdrSecretToken1',
                Cookie: 'sid=cookieSecret',
                'user-agent': 'vitest',
              },
              query_string: 'token=qs-secret&page=1',
            },
            extra: { payload: { password: 'extra-pass', note: 'kept-note' } },
            user: { id: 'u_42' },
          }),
        );
        span.end();
        return { traceId: span.spanContext().traceId, eventId: id };
      });
    expect(eventId).toMatch(/^[0-9a-f]{32}$/);
    expect(await flushSentry(5000)).toBe(true);

    const raw = ingest.bodies.join('\n');
    for (const secret of [
      'mallory@example.com',
      's3cr3tBearerToken',
      'hdrSecretToken1',
      'cookieSecret',
      'urlpass',
      'qs-secret',
      'extra-pass',
      'zed@example.com',
      'crumbSecret99',
    ]) {
      expect(raw, secret).not.toContain(secret);
    }
    const [event] = events(ingest.bodies);
    expect(event).toBeDefined();
    expect(event?.tags).toMatchObject({
      service: 'core',
      env: 'test',
      requestId: 'req-42',
      route: '/login',
      trace_id: traceId,
    });
    expect(event?.contexts?.trace?.trace_id).toBe(traceId);
    expect(event?.environment).toBe('test');
    expect(event?.release).toBe('1.2.3');
    expect(event?.exception?.values?.[0]?.value).toBe(
      'login failed for [EMAIL] with Bearer [REDACTED]',
    );
    expect(event?.request?.headers).toMatchObject({
      Authorization: '[REDACTED]',
      'user-agent': 'vitest',
    });
    expect(event?.request).not.toHaveProperty('cookies');
    expect(event?.request?.url).toContain('api.example.io/login');
    expect(event?.extra).toMatchObject({
      payload: { password: '[REDACTED]', note: 'kept-note' },
    });
    expect(event?.user).toEqual({ id: 'u_42' });
    expect(event?.breadcrumbs?.[0]).toMatchObject({
      message: 'lookup [EMAIL]',
      data: { authorization: '[REDACTED]', step: 'crumb-step' },
    });
  });

  it('does not replace the tracer provider nor hook http', () => {
    expect((trace.getTracerProvider() as ProxyTracerProvider).getDelegate()).toBe(provider);
    expect(http.request).toBe(httpRequest);
    expect(diagnosticsChannel.channel('http.client.request.start').hasSubscribers).toBe(false);
    expect(diagnosticsChannel.channel('http.server.request.start').hasSubscribers).toBe(false);
  });

  it('is a no-op before init and after close, never throwing', async () => {
    await closeSentry();
    expect(captureException(new Error('x'))).toBeUndefined();
    expect(await flushSentry(10)).toBe(false);
  });
});
