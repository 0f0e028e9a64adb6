/**
 * One redactor per `init()`: the log line and the metric label exits follow
 * the same `logging.*` settings (here `maxStringLength` and `redactKeys`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture, type LogCapture } from '../helpers/log-capture.js';

let telemetry: Telemetry;
let logs: LogCapture;

beforeAll(() => {
  logs = createLogCapture();
  telemetry = init({
    service: 'edge',
    env: 'test',
    tracing: { exporter: 'none' },
    metrics: { defaultMetrics: false },
    logging: { destination: logs.stream, maxStringLength: 64, redactKeys: ['acmeTicket'] },
  });
});

afterAll(() => telemetry.shutdown());

describe('the redactor shared by log lines and metric labels', () => {
  it('cuts a long string in a log line and refuses it as a label value, by the same limit', async () => {
    const long = 'v'.repeat(100);
    telemetry.logger.info({ route: long }, 'long');
    telemetry.metrics.vendor429Total.inc({ vendor: long });
    telemetry.metrics.vendor429Total.inc({ vendor: 'v'.repeat(64) });
    const line = logs.lines().find((l) => l.msg === 'long');
    expect(String(line?.route)).not.toContain(long);
    const text = await telemetry.metricsText();
    expect(text).toContain('vendor_429_total{vendor="[REDACTED]",service="edge"} 1');
    expect(text).toContain(`vendor_429_total{vendor="${'v'.repeat(64)}",service="edge"} 1`);
  });

  it('hides a value after a configured secret key in a log message and in a label value', async () => {
    telemetry.logger.info('acmeTicket=hunter2hunter2');
    telemetry.metrics.vendor429Total.inc({ vendor: 'acmeTicket=hunter2hunter2' });
    expect(logs.text()).not.toContain('hunter2hunter2');
    expect(await telemetry.metricsText()).not.toContain('hunter2hunter2');
  });
});
