/**
 * Which parts of a Sentry event the redactor rewrites, field by field, on a
 * hand-built event: every part that carries user data comes out scrubbed,
 * frames keep their file and function names, `user` keeps only its id, and
 * nothing is added that the event did not have.
 */
import type { Event as SentryEvent } from '@sentry/node';
import { describe, expect, it } from 'vitest';
import { createRedactor, redactSentryEvent } from '../../src/logging/index.js';
import { redactBreadcrumb } from '../../src/logging/sentry-redact.js';

const r = createRedactor();
const TOKEN = 'Bearer eyJhbGciOiJIUzI1NiJ9sentryRedact';

describe('redactSentryEvent', () => {
  it('scrubs every part that carries user data, and only those', () => {
    const event: SentryEvent = {
      event_id: 'e1',
      message: 'login by bob@example.com',
      logentry: { message: 'reset %s', params: ['password=hunter2'] },
      transaction: 'GET /reset?token=tok3nSentry1',
      exception: {
        values: [
          {
            type: 'Error',
            value: `call failed: ${TOKEN}`,
            stacktrace: {
              frames: [
                {
                  filename: '/srv/app/login.js',
                  function: 'login',
                  vars: { password: 'pw1', attempt: 2 },
                  context_line: `  const h = '${TOKEN}';`,
                },
                { filename: '/srv/app/main.js', function: 'main' },
              ],
            },
          },
          { type: 'TypeError for carol@example.com', value: 'no stack here' },
          { value: 'no type: dave@example.com' },
          { type: 'NoFrames', stacktrace: {} },
        ],
      },
      request: {
        url: 'https://u:p4ss@api.example.io/x?api_key=k3y',
        headers: { authorization: TOKEN, accept: 'json' },
        cookies: { sid: 'cookieSentry1' },
      },
      user: { id: 42, email: 'erin@example.com', ip_address: '10.1.2.3', username: 'erin' },
      extra: { password: 'pw2', note: 'frank@example.com' },
      contexts: { order: { card: '4111', secret: 's3' } },
      tags: { route: '/x', token: 't0k' },
      fingerprint: ['{{ default }}', 'gina@example.com'],
      breadcrumbs: [
        { message: `sent ${TOKEN}`, data: { apiKey: 'k4' } },
        { category: 'nav', data: { from: '/a' } },
      ],
    };
    const before = structuredClone(event);
    const out = redactSentryEvent(event, r);
    expect(event).toStrictEqual(before); // never mutated
    expect(out).toStrictEqual({
      event_id: 'e1',
      message: 'login by [EMAIL]',
      logentry: { message: 'reset %s', params: ['password=[REDACTED]'] },
      transaction: 'GET /reset?token=[REDACTED]',
      exception: {
        values: [
          {
            type: 'Error',
            value: 'call failed: Bearer [REDACTED]',
            stacktrace: {
              frames: [
                {
                  filename: '/srv/app/login.js',
                  function: 'login',
                  vars: { password: '[REDACTED]', attempt: 2 },
                  context_line: "  const h = 'Bearer [REDACTED]';",
                },
                { filename: '/srv/app/main.js', function: 'main' },
              ],
            },
          },
          { type: 'TypeError for [EMAIL]', value: 'no stack here' },
          { value: 'no type: [EMAIL]' },
          { type: 'NoFrames', stacktrace: {} },
        ],
      },
      request: {
        url: 'https://[REDACTED]@api.example.io/x?api_key=[REDACTED]',
        headers: { authorization: '[REDACTED]', accept: 'json' },
      },
      user: { id: '42' },
      extra: { password: '[REDACTED]', note: '[EMAIL]' },
      contexts: { order: { card: '4111', secret: '[REDACTED]' } },
      tags: { route: '/x', token: '[REDACTED]' },
      fingerprint: ['{{ default }}', '[EMAIL]'],
      breadcrumbs: [
        { message: 'sent Bearer [REDACTED]', data: { apiKey: '[REDACTED]' } },
        { category: 'nav', data: { from: '/a' } },
      ],
    });
  });

  it('adds no field the event did not have', () => {
    const event: SentryEvent = { event_id: 'e2', level: 'info' };
    expect(redactSentryEvent(event, r)).toStrictEqual({ event_id: 'e2', level: 'info' });
  });

  it('keeps nothing of a user without an id', () => {
    const out = redactSentryEvent({ user: { email: 'hal@example.com', username: 'hal' } }, r);
    expect(out).toStrictEqual({ user: {} });
  });

  it('scrubs a user id that holds an e-mail address', () => {
    const out = redactSentryEvent({ user: { id: 'ivy@example.com' } }, r);
    expect(out).toStrictEqual({ user: { id: '[EMAIL]' } });
  });
});

describe('redactBreadcrumb', () => {
  it('scrubs the message and data and adds nothing', () => {
    expect(
      redactBreadcrumb({ message: 'user jan@example.com', data: { password: 'pw5' } }, r),
    ).toStrictEqual({ message: 'user [EMAIL]', data: { password: '[REDACTED]' } });
    expect(redactBreadcrumb({ category: 'http', level: 'info' }, r)).toStrictEqual({
      category: 'http',
      level: 'info',
    });
  });
});
