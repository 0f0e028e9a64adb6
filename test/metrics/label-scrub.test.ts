/**
 * The metric label exit of the scrubbing engine, through the shared secret
 * table: a label value holding a secret or an e-mail address becomes
 * `[REDACTED]` when its series is created, and is counted; look-alikes are
 * kept as they are. Read from the `/metrics` text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { LOOK_ALIKES, SECRET_STRINGS } from '../helpers/secret-cases.js';

let telemetry: Telemetry;
let text = '';

beforeAll(async () => {
  telemetry = init({
    service: 'edge',
    env: 'test',
    tracing: { exporter: 'none' },
    metrics: { defaultMetrics: false, maxSeriesPerMetric: 1000 },
    logging: { destination: createLogCapture().stream },
  });
  for (const c of SECRET_STRINGS) telemetry.metrics.vendor429Total.inc({ vendor: c.text });
  for (const v of LOOK_ALIKES) telemetry.metrics.vendor429Total.inc({ vendor: v });
  // The same secret again: the series is found again, and counted again.
  telemetry.metrics.vendor429Total.inc({ vendor: SECRET_STRINGS[0]!.text });
  text = await telemetry.metricsText();
});

afterAll(() => telemetry.shutdown());

/** A label value as the exposition escapes it. */
const escaped = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

describe('metric label values through the shared secret table', () => {
  it.each(SECRET_STRINGS.map((c) => [c.name, c] as const))('scrubs %s', (_n, c) => {
    for (const secret of c.secrets) expect(text).not.toContain(escaped(secret));
  });

  it('puts every secret-laden value into one [REDACTED] series and counts each', () => {
    const n = SECRET_STRINGS.length + 1;
    expect(text).toContain(`vendor_429_total{vendor="[REDACTED]",service="edge"} ${n}`);
    expect(text).toContain(
      `stacklight_label_values_redacted_total{metric="vendor_429_total",service="edge"} ${n}`,
    );
  });

  it.each(LOOK_ALIKES)('keeps %j', (v) => {
    expect(text).toContain(`vendor_429_total{vendor="${escaped(v)}",service="edge"} 1`);
  });
});
