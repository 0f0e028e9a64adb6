/**
 * The metric label exit of the scrubbing engine, through the shared secret
 * table: a label value holding a secret or an e-mail address becomes
 * `[REDACTED]` when its series is created, and is counted; look-alikes are
 * kept as they are. Read from the `/metrics` text.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { LOOK_ALIKES, SECRET_STRINGS } from '../helpers/secret-cases.js';

let telemetry: Telemetry | undefined;
let scraped: Promise<string> | undefined;

/**
 * The handle, with the secret cases recorded and scraped once, on first use
 * by a test (not in beforeAll: code run outside a test is "static" to
 * Stryker, which then cannot tell which tests kill its mutants).
 */
function scrape(): Promise<string> {
  scraped ??= (async () => {
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
    return telemetry.metricsText();
  })();
  return scraped;
}

/** The live handle (after {@link scrape}). */
async function handle(): Promise<Telemetry> {
  await scrape();
  return telemetry!;
}

afterAll(() => telemetry?.shutdown());

/** A label value as the exposition escapes it. */
const escaped = (v: string): string =>
  v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

describe('metric label values through the shared secret table', () => {
  it.each(SECRET_STRINGS.map((c) => [c.name, c] as const))('scrubs %s', async (_n, c) => {
    const text = await scrape();
    for (const secret of c.secrets) expect(text).not.toContain(escaped(secret));
  });

  it('puts every secret-laden value into one [REDACTED] series and counts each', async () => {
    const text = await scrape();
    const n = SECRET_STRINGS.length + 1;
    expect(text).toContain(`vendor_429_total{vendor="[REDACTED]",service="edge"} ${n}`);
    expect(text).toContain(
      `stacklight_label_values_redacted_total{metric="vendor_429_total",service="edge"} ${n}`,
    );
  });

  it.each(LOOK_ALIKES)('keeps %j', async (v) => {
    const text = await scrape();
    expect(text).toContain(`vendor_429_total{vendor="${escaped(v)}",service="edge"} 1`);
  });
});

// On a metric the tests above do not use.
describe('secrets in more than one label, in an object, and past the 200-character cut', () => {
  const series = (text: string): string[] =>
    text.split('\n').filter((l) => l.startsWith('vendor_req_duration_ms_count{'));
  const redacted = async (): Promise<string | undefined> =>
    (await (await handle()).metricsText())
      .split('\n')
      .find((l) =>
        l.startsWith('stacklight_label_values_redacted_total{metric="vendor_req_duration_ms"'),
      );

  it('redacts every label that holds one, not only the first, and counts each', async () => {
    const before = await redacted();
    const telemetry = await handle();
    telemetry.metrics.vendorReqDurationMs.observe(
      { vendor: 'api_key=akTwoLabels1secret', code: 'to carol.two@example.com' },
      5,
    );
    const text = await telemetry.metricsText();
    expect(series(text)).toContain(
      'vendor_req_duration_ms_count{vendor="[REDACTED]",code="[REDACTED]",service="edge"} 1',
    );
    expect(text).not.toContain('carol.two');
    expect(text).not.toContain('akTwoLabels1');
    const count = (line: string | undefined): number => Number(line?.split(' ').pop() ?? 0);
    expect(count(await redacted()) - count(before)).toBe(2);
  });

  it('recognises a secret that the cut would split', async () => {
    const telemetry = await handle();
    // The address starts at 191 and ends past the cut, so the cut value alone
    // ("… carol.cut") no longer looks like one.
    telemetry.metrics.vendorReqDurationMs.observe(
      { vendor: `${'p'.repeat(190)} carol.cut@example.com`, code: '429' },
      5,
    );
    const text = await telemetry.metricsText();
    expect(series(text)).toContain(
      'vendor_req_duration_ms_count{vendor="[REDACTED]",code="429",service="edge"} 1',
    );
    expect(text).not.toContain('carol.cut');
  });

  it('scrubs the text of a value that is not a string', async () => {
    const telemetry = await handle();
    const vendor = { toString: () => 'dave.obj@example.com' } as unknown as string;
    telemetry.metrics.vendorReqDurationMs.observe({ vendor, code: '418' }, 5);
    const text = await telemetry.metricsText();
    expect(series(text)).toContain(
      'vendor_req_duration_ms_count{vendor="[REDACTED]",code="418",service="edge"} 1',
    );
    expect(text).not.toContain('dave.obj');
  });
});
