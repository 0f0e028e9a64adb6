import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import { startFaultyCollector, type FaultyCollector } from '../helpers/faulty-collector.js';
import { createLogCapture, type LogLine } from '../helpers/log-capture.js';
import { closedPort, decodeExportTraceServiceRequest } from '../helpers/otlp-receiver.js';

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});

let telemetry: Telemetry | undefined;
let collector: FaultyCollector | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  await collector?.close();
  collector = undefined;
});

function start(tracing: NonNullable<Parameters<typeof init>[0]>['tracing']) {
  const logs = createLogCapture();
  telemetry = init({
    service: 'exporter-test',
    logging: { destination: logs.stream },
    metrics: { defaultMetrics: false },
    tracing: { scheduledDelayMs: 10, ...tracing },
    shutdown: { timeoutMs: 10_000 },
  });
  return { t: telemetry, lines: (): LogLine[] => logs.lines() };
}

const dropped = (t: Telemetry, reason: string): number =>
  t.selfMetrics.spansDroppedTotal.read({ reason });

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const exportWarnings = (lines: () => LogLine[]): string[] =>
  lines()
    .filter((l) => (l.extra as { stacklight?: string } | undefined)?.stacklight === 'export')
    .map((l) => String(l.msg));

describe('OTLP/HTTP exporter over TLS', () => {
  it('sends gzip bodies to an HTTPS collector with a custom CA and a client certificate', async () => {
    collector = await startFaultyCollector({
      tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca, requestCert: true },
    });
    const { t } = start({
      endpoint: collector.url,
      compression: 'gzip',
      certificate: certs.caPath,
      clientCertificate: certs.clientCertPath,
      clientKey: certs.clientKeyPath,
    });
    t.tracer.startSpan('over tls').end();
    await collector.waitForRequests(1);
    const { headers, body } = collector.bodies[0]!;
    expect(headers['content-encoding']).toBe('gzip');
    expect(headers['content-type']).toBe('application/x-protobuf');
    const spans = decodeExportTraceServiceRequest(gunzipSync(body));
    expect(spans.map((s) => s.name)).toEqual(['over tls']);
    expect(spans[0]!.resource['service.name']).toBe('exporter-test');
  });

  it('fails the export against a collector signed by another CA, counted and warned with the reason', async () => {
    collector = await startFaultyCollector({
      tls: { key: certs.serverKey, cert: certs.serverCert },
    });
    const { t, lines } = start({ endpoint: collector.url, certificate: certs.otherCaPath });
    t.tracer.startSpan('untrusted').end();
    await until(() => dropped(t, 'export_failed') === 1, 'the failed export');
    expect(collector.requests).toBe(0);
    expect(exportWarnings(lines)).toEqual([
      expect.stringMatching(
        /^stacklight: span export failed: TLS handshake failed \([A-Z_]+\); the batch's spans are dropped and counted$/,
      ),
    ]);
  });
});

describe('OTLP/HTTP exporter answers', () => {
  it('fails a batch whose 200 body stalls, frees its socket, and delivers once the collector recovers', async () => {
    collector = await startFaultyCollector({ mode: 'stall-body' });
    const { t, lines } = start({ endpoint: collector.url, exportTimeoutMs: 300 });
    // More stalled batches than the agent has sockets (2): each must give its socket back.
    for (let i = 0; i < 3; i++) {
      t.tracer.startSpan(`stalled ${i}`).end();
      await until(() => dropped(t, 'export_timeout') === i + 1, `stalled batch ${i}`);
    }
    await until(() => collector!.openConnections === 0, 'the stalled sockets to close');
    collector.mode = 'ok';
    t.tracer.startSpan('after recovery').end();
    await collector.waitForRequests(4);
    const last = decodeExportTraceServiceRequest(collector.bodies[3]!.body);
    expect(last.map((s) => s.name)).toEqual(['after recovery']);
    expect(dropped(t, 'export_timeout')).toBe(3);
    // First failure warned, the next two within the minute only counted.
    expect(exportWarnings(lines)).toEqual([
      "stacklight: span export failed: no complete answer within the export timeout (300 ms); the batch's spans are dropped and counted",
    ]);
  });

  it('retries a 429 after its Retry-After and delivers the batch', async () => {
    collector = await startFaultyCollector({ mode: 'retry-after' });
    const { t } = start({ endpoint: collector.url, exportTimeoutMs: 5000 });
    t.tracer.startSpan('throttled').end();
    await collector.waitForRequests(2);
    expect(decodeExportTraceServiceRequest(collector.bodies[1]!.body).map((s) => s.name)).toEqual([
      'throttled',
    ]);
    await t.shutdown();
    expect(dropped(t, 'export_failed') + dropped(t, 'export_timeout')).toBe(0);
  });

  it('gives up at once when Retry-After lies beyond the export timeout', async () => {
    collector = await startFaultyCollector({ mode: 'retry-after' });
    const { t, lines } = start({ endpoint: collector.url, exportTimeoutMs: 500 });
    t.tracer.startSpan('throttled').end();
    await until(() => dropped(t, 'export_failed') === 1, 'the failed export');
    expect(collector.requests).toBe(1);
    expect(exportWarnings(lines)).toEqual([
      "stacklight: span export failed: the collector answered HTTP 429 with Retry-After 1 s, beyond the export timeout; the batch's spans are dropped and counted",
    ]);
  });

  it('sends no retry whose answer could only come after the export timeout', async () => {
    // Retry-After 1 s fits in 1 050 ms, but leaves less than a tenth of the
    // timeout for the answer: the batch fails at once, with no second request.
    collector = await startFaultyCollector({ mode: 'retry-after' });
    const { t, lines } = start({ endpoint: collector.url, exportTimeoutMs: 1050 });
    t.tracer.startSpan('throttled').end();
    await until(() => dropped(t, 'export_failed') === 1, 'the failed export');
    expect(collector.requests).toBe(1);
    expect(dropped(t, 'export_timeout')).toBe(0);
    expect(exportWarnings(lines)).toEqual([
      "stacklight: span export failed: the collector answered HTTP 429 with Retry-After 1 s, beyond the export timeout; the batch's spans are dropped and counted",
    ]);
  });

  it('retries 503 with backoff within the export timeout, then fails naming the status', async () => {
    collector = await startFaultyCollector({ mode: 'slow-5xx', delayMs: 10 });
    const { t, lines } = start({ endpoint: collector.url, exportTimeoutMs: 2500 });
    t.tracer.startSpan('unavailable').end();
    await until(() => dropped(t, 'export_failed') === 1, 'the failed export');
    expect(collector.requests).toBeGreaterThanOrEqual(2);
    expect(exportWarnings(lines)).toEqual([
      "stacklight: span export failed: the collector answered HTTP 503; no time left in the export timeout to retry; the batch's spans are dropped and counted",
    ]);
  });

  it('warns about a refused connection', async () => {
    const { t, lines } = start({ endpoint: `http://127.0.0.1:${await closedPort()}/v1/traces` });
    t.tracer.startSpan('refused').end();
    await until(() => dropped(t, 'export_failed') === 1, 'the failed export');
    expect(exportWarnings(lines)).toEqual([
      "stacklight: span export failed: connection refused (ECONNREFUSED); the batch's spans are dropped and counted",
    ]);
  });
});
