/**
 * The generated rules (deploy/prometheus/rules, `npm run generate:deploy`),
 * dashboards and scrape configuration against a real Prometheus (Debian's
 * `prometheus`) on loopback, scraping the demo's services (examples/demo:
 * Edge, Core, Workers on BullMQ, AI Coach, each its own process) under the
 * demo's Web traffic, with the spec's probes (examples/probes/spec-probes.ts)
 * running against them. Through the HTTP API it evaluates every recording
 * rule, every series an alert reads and every dashboard query: those fed by
 * stacklight must return data, those needing postgres_exporter or
 * redis_exporter are listed as external. The demo runs with its AI fault
 * switch on (`--ai-errors 0.3`): AIErrorRateHigh goes pending, the AI probe
 * fails now and then, and `slo status` fails the deploy while it does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { dashboardSpecs, runnableQuery } from '../../src/slo/dashboards.js';
import { createProbeRunner, type ProbeRunner } from '../../src/slo/probes.js';
import { ruleFiles } from '../../src/slo/rules.js';
import { scrapeConfig } from '../../src/slo/scrape-config.js';
import { resolveSpecNames } from '../../src/slo/spec.js';
import { formatSloStatus, queryPrometheus, sloStatus } from '../../src/slo/status.js';
import type { YamlMap } from '../../src/slo/yaml.js';
import { ROOT } from '../demo/helpers.js';
import { startDemoStack, type DemoStack } from '../helpers/demo-stack.js';
import { externalSelectors, selectorsOf } from './selectors.js';

const dir = mkdtempSync(join(tmpdir(), 'stacklight-e2e-'));
let server: ChildProcess | undefined;
let stack: DemoStack | undefined;
let prom = '';
let telemetry: Telemetry | undefined;
let probes: ProbeRunner | undefined;
let probeServer: Server | undefined;

/** The share of AI Coach requests answered 503: the demo's `--ai-errors`. */
const AI_ERRORS = 0.3;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Polls `check` every 500 ms until it returns true; bounded by `ms` (a hang guard). */
async function until(check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const hasData = async (q: string) => (await queryPrometheus(prom, q)).length > 0;

const rules = ruleFiles().flatMap((f) => f.groups.flatMap((g) => g['rules'] as YamlMap[]));

/** The recording rules (as selectors with their labels) that return no data yet. */
async function recordingsWithoutData(): Promise<string[]> {
  const missing: string[] = [];
  for (const r of rules.filter((x) => typeof x['record'] === 'string')) {
    const labels = (r['labels'] ?? {}) as Record<string, string>;
    const sel = `${r['record']}{${Object.entries(labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(',')}}`;
    if (!(await hasData(sel))) missing.push(sel);
  }
  return missing;
}

beforeAll(async () => {
  stack = await startDemoStack({
    users: 6,
    env: { 'ai-coach': { AI_ERROR_RATE: String(AI_ERRORS) } },
    broker429: 0.2, // the demo's --broker-429: vendor_429_total for the import panel
  });
  const { urls, metrics } = stack;

  // The spec's probes, in this process, against the demo. Their thresholds
  // are the spec's speed objectives; on a loaded test machine only the
  // correctness of each journey is asserted.
  Object.assign(process.env, {
    EDGE_URL: urls.edge,
    CORE_URL: urls.core,
    AI_COACH_URL: urls.ai,
    PROBE_USER: 'u_probe',
    PROBE_PASSWORD: 'correct horse',
  });
  const { default: config } = await import('../../examples/probes/spec-probes.js');
  telemetry = init({
    service: 'prober',
    logging: { level: 'silent' },
    metrics: { defaultMetrics: false },
    tracing: { enabled: false },
  });
  probes = createProbeRunner(telemetry, {
    intervalMs: 1000,
    probes: config.probes.map((p) => ({ ...p, thresholdMs: 30_000, timeoutMs: 30_000 })),
  });
  probes.start();
  probeServer = createServer((req, res) => telemetry!.metricsHandler(req, res));
  await new Promise<void>((r) => probeServer!.listen(0, '127.0.0.1', r));
  const probePort = (probeServer.address() as AddressInfo).port;

  // What a healthy run does not do on its own, but the alerts and panels read:
  // a browser tab closed without a close frame (a dropped WebSocket), a
  // connection reset between Edge and Core (the SSE stream reconnects), and
  // an event Edge cannot handle (dropped and counted, the stream goes on).
  const tab = new WebSocket(`${urls.edge.replace(/^http/, 'ws')}/v1/coach`);
  tab.on('error', () => undefined);
  await new Promise((r) => tab.once('open', r));
  tab.terminate();
  expect(stack.cutEdgeToCore()).toBeGreaterThan(0);
  const bad = await fetch(`${urls.core}/internal/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'coach.reflection', payload: null }),
  });
  expect(bad.status).toBe(201);

  const port = await freePort();
  prom = `http://127.0.0.1:${port}`;
  const scrape = scrapeConfig({
    targets: [...Object.values(metrics).map((m) => new URL(m).host), `127.0.0.1:${probePort}`],
    interval: '1s',
    rules: join(ROOT, 'deploy/prometheus/rules/*.rules.yml'),
  });
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  evaluation_interval: 1s\n${scrape}`);
  server = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  await until(async () => (await fetch(`${prom}/-/ready`)).ok, 20_000);
  // Each SLI's traffic reaches its rules at its own pace on a loaded
  // machine (the first digest run comes after 10 s): wait for all of them.
  await until(async () => (await recordingsWithoutData()).length === 0, 90_000);
}, 180_000);

afterAll(async () => {
  await probes?.stop();
  probeServer?.close();
  await telemetry?.shutdown();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => {
      server!.once('exit', r);
      setTimeout(r, 5000);
    });
  }
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('generated rules on a real Prometheus', () => {
  it('loads every rule file with no evaluation error', async () => {
    const res = (await (await fetch(`${prom}/api/v1/rules`)).json()) as {
      data: {
        groups: { file: string; rules: { name: string; health: string; lastError?: string }[] }[];
      };
    };
    const loaded = res.data.groups.flatMap((g) => g.rules);
    expect(loaded).toHaveLength(rules.length);
    for (const r of loaded) expect(r.health, `${r.name}: ${r.lastError}`).toBe('ok');
  });

  it('every recording rule returns data', async () => {
    expect(await recordingsWithoutData()).toEqual([]);
  });

  it('every series an alert reads has data, except the exporters’ (listed)', async () => {
    const missing: string[] = [];
    const external = new Set<string>();
    for (const r of rules.filter((x) => typeof x['alert'] === 'string')) {
      const expr = r['expr'] as string;
      expect(await queryPrometheus(prom, expr)).toBeInstanceOf(Array); // valid, evaluates
      for (const sel of selectorsOf(expr)) {
        if (externalSelectors.test(sel)) external.add(`${r['alert']}: ${sel}`);
        else if (!(await hasData(sel))) missing.push(`${r['alert']}: ${sel}`);
      }
    }
    expect(missing).toEqual([]);
    // Only the Postgres and Redis alerts need exporters stacklight does not run.
    expect([...new Set([...external].map((e) => e.split(':')[0]))].sort()).toEqual([
      'PostgresBloatOrLocks',
      'RedisDown',
      'RedisEvictingKeys',
    ]);
  });

  it('every dashboard query fed by stacklight returns data; Infra exporter panels are external', async () => {
    const missing: string[] = [];
    const external: string[] = [];
    for (const d of dashboardSpecs(resolveSpecNames()))
      for (const p of d.panels)
        for (const q of p.queries) {
          const expr = runnableQuery(q.expr, '1m');
          const result = await queryPrometheus(prom, expr); // throws on invalid PromQL
          if (p.source !== 'stacklight') external.push(`${d.title} / ${p.title}`);
          else if (result.length === 0) missing.push(`${d.title} / ${p.title}: ${expr}`);
        }
    expect(missing).toEqual([]);
    expect(external).toEqual([
      'Infra / Postgres connections',
      'Infra / Postgres slow queries',
      'Infra / Postgres dead tuples (bloat)',
      'Infra / Postgres deadlocks',
      'Infra / Redis ops/sec',
      'Infra / Redis memory',
      'Infra / Redis memory',
      'Infra / Redis evictions',
    ]);
  });

  it('keeps probe traffic out of the SLI metrics and exports the probe results', async () => {
    await until(
      () => hasData('http_synthetic_requests_total{service="edge",route="/v1/login",code="200"}'),
      20_000,
    );
    expect(
      await queryPrometheus(
        prom,
        'http_synthetic_requests_total{service="edge",route="/v1/login",code="200"} > 0',
      ),
    ).toHaveLength(1);
    // The Web users' logins are the SLI's traffic; the probe's are not in it.
    expect(await hasData('http_requests_total{service="edge",route="/v1/login",code="200"}')).toBe(
      true,
    );
    await until(async () => (await queryPrometheus(prom, 'probe_success')).length === 4, 20_000);
    const success = await queryPrometheus(prom, 'probe_success');
    expect(success.map((s) => s.metric['probe']).sort()).toEqual([
      'ai',
      'import',
      'login',
      'reflect',
    ]);
    // Login, import and reflect hold under the AI fault (failed reflections
    // are retried); the login probe never failed.
    expect(
      await queryPrometheus(prom, 'min_over_time(probe_success{probe="login"}[5m]) == 1'),
    ).toHaveLength(1);
    expect(await hasData('probe_duration_seconds{probe="import"}')).toBe(true);
  });

  it('the demo’s --ai-errors makes AIErrorRateHigh go pending, and slo status fails the deploy while the AI probe fails', async () => {
    const alerts = async () => {
      const res = (await (await fetch(`${prom}/api/v1/alerts`)).json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      return res.data.alerts.map((a) => `${a.labels['alertname']} ${a.state}`);
    };
    await until(async () => (await alerts()).includes('AIErrorRateHigh pending'), 60_000);
    const now = await alerts();
    expect(now).toContain('AIErrorRateHigh pending');
    // The AI fault costs no login availability.
    expect(now.filter((a) => a.startsWith('EdgeAvailabilityBurn'))).toEqual([]);
    expect(
      await queryPrometheus(prom, 'sli:ai_error_rate:ratio_rate5m > 0.05'),
      'AI error rate above the alert threshold',
    ).toHaveLength(1);

    // The AI probe fails one run in three or so: slo status fails the deploy after such a run.
    let report = await sloStatus(prom);
    await until(async () => {
      report = await sloStatus(prom);
      return report.failingProbes.includes('ai');
    }, 60_000);
    const text = formatSloStatus(report);
    expect(report.failingProbes, text).toContain('ai');
    expect(report.pass, text).toBe(false);
    expect(
      report.rows.filter((r) => r.state === 'no data'),
      text,
    ).toEqual([]);
    expect(text).toMatch(/^login +availability +99\.90% /m);
  }, 150_000);
});
