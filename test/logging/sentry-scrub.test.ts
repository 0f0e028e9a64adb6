/**
 * The Sentry exit of the scrubbing engine, through the shared secret table:
 * each case is captured through `init()`'s Sentry client (as the error's
 * message, name, an extra and a tag) and read back from the envelopes at a
 * local fake ingest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';
import {
  allText,
  SECRET_STRINGS,
  SECRET_VALUES,
  type StringCase,
  type ValueCase,
} from '../helpers/secret-cases.js';
import { sentryEvents, startSentryIngest, type SentryIngest } from '../helpers/sentry-ingest.js';
import type { Event as SentryEvent } from '@sentry/node';

let ingest: SentryIngest;
let telemetry: Telemetry;
let events: SentryEvent[] = [];

beforeAll(async () => {
  ingest = await startSentryIngest();
  telemetry = init({
    service: 'edge',
    env: 'production',
    sentry: { dsn: ingest.url },
    tracing: { exporter: 'none' },
    metrics: { defaultMetrics: false },
    logging: { destination: createLogCapture().stream },
  });
  await telemetry.ready();
  SECRET_STRINGS.forEach((c, i) => {
    const err = new Error(c.text);
    err.name = `CaseError ${c.text}`;
    telemetry.captureException(err, {
      tags: { case: `s${i}`, detail: c.text },
      extra: { detail: c.text },
    });
  });
  SECRET_VALUES.forEach((c, i) => {
    telemetry.captureException(new Error(`value case ${i}`), {
      tags: { case: `v${i}` },
      extra: { payload: c.value },
    });
  });
  await telemetry.shutdown(); // flushes the queued events
  events = sentryEvents(ingest.bodies);
}, 30_000);

afterAll(() => ingest?.close());

function eventOf(tag: string): SentryEvent {
  const e = events.find((x) => x.tags?.['case'] === tag);
  if (e === undefined) throw new Error(`no event for case ${tag}`);
  return e;
}

function check(e: SentryEvent, c: StringCase | ValueCase): void {
  const text = allText(e).join('\n');
  const raw = JSON.stringify(e);
  for (const secret of c.secrets) {
    expect(text, `${c.name}: ${secret}`).not.toContain(secret);
    expect(raw, `${c.name}: ${secret}`).not.toContain(JSON.stringify(secret).slice(1, -1));
  }
  for (const kept of c.keep) expect(text, `${c.name}: ${kept} lost`).toContain(kept);
}

describe('Sentry events through the shared secret table', () => {
  it('received an event per case', () => {
    expect(events.length).toBe(SECRET_STRINGS.length + SECRET_VALUES.length);
  });

  it.each(SECRET_STRINGS.map((c, i) => [c.name, i] as const))('scrubs %s', (_n, i) => {
    check(eventOf(`s${i}`), SECRET_STRINGS[i]!);
  });

  it.each(SECRET_VALUES.map((c, i) => [c.name, i] as const))('scrubs %s', (_n, i) => {
    check(eventOf(`v${i}`), SECRET_VALUES[i]!);
  });
});
