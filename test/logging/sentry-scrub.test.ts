/**
 * The Sentry exit of the scrubbing engine, through the shared secret table:
 * each case is captured through `init()`'s Sentry client (as the error's
 * message, name, an extra and a tag) and read back from the envelopes at a
 * local fake ingest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { flushSentry } from '../../src/logging/sentry.js';
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

// Each test captures its own case and flushes it: the redaction then runs inside the test that
// checks it (mutation testing attributes code run in a `beforeAll` to no test).
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
}, 30_000);

afterAll(async () => {
  await telemetry?.shutdown();
  await ingest?.close();
});

/** Captures `err` tagged `tag`, flushes, and returns the event the ingest received. */
async function capture(
  tag: string,
  err: Error,
  context: { tags?: Record<string, string>; extra?: Record<string, unknown> },
): Promise<SentryEvent> {
  telemetry.captureException(err, { tags: { case: tag, ...context.tags }, extra: context.extra });
  expect(await flushSentry(5000)).toBe(true);
  const e = sentryEvents(ingest.bodies).find((x) => x.tags?.['case'] === tag);
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
  it.each(SECRET_STRINGS.map((c, i) => [c.name, i] as const))('scrubs %s', async (_n, i) => {
    const c = SECRET_STRINGS[i]!;
    const err = new Error(c.text);
    err.name = `CaseError ${c.text}`;
    check(await capture(`s${i}`, err, { tags: { detail: c.text }, extra: { detail: c.text } }), c);
  });

  it.each(SECRET_VALUES.map((c, i) => [c.name, i] as const))('scrubs %s', async (_n, i) => {
    const c = SECRET_VALUES[i]!;
    check(await capture(`v${i}`, new Error(`value case ${i}`), { extra: { payload: c.value } }), c);
  });
});
