/**
 * The generated rules, dashboards and scrape configuration against a real
 * Prometheus (Debian's `prometheus`) on loopback, scraping instrumented
 * services under traffic (test/slo/services: Edge with WebSockets and an
 * SSE subscriber, Workers on BullMQ) and a probe runner. Through the HTTP
 * API it evaluates every recording rule, every series an alert reads and
 * every dashboard query; those fed by stacklight must return data, those
 * needing postgres_exporter or redis_exporter are listed as external. Then
 * two faults make the matching alerts go pending, and `slo status` fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { dashboardSpecs, runnableQuery } from '../../src/slo/dashboards.js';
import { createProbeRunner, type ProbeRunner } from '../../src/slo/probes.js';
import { generateRules, ruleFiles } from '../../src/slo/rules.js';
import { scrapeConfig } from '../../src/slo/scrape-config.js';
import { resolveSpecNames } from '../../src/slo/spec.js';
import { formatSloStatus, queryPrometheus, sloStatus } from '../../src/slo/status.js';
import type { YamlMap } from '../../src/slo/yaml.js';
import { externalSelectors, selectorsOf } from './selectors.js';

const dir = mkdtempSync(join(tmpdir(), 'stacklight-e2e-'));
const children: ChildProcess[] = [];
let prom = '';
let edge = '';
let telemetry: Telemetry;
let probes: ProbeRunner;
let probeServer: Server;

/** Starts a service script; resolves with the port it prints as `READY <port>`. */
function startService(script: string, env: Record<string, string> = {}): Promise<number> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'services', script)],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /READY (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
}

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
  for (const f of generateRules()) writeFileSync(join(dir, f.path), f.content);
  const edgePort = await startService('edge.ts');
  edge = `http://127.0.0.1:${edgePort}`;
  const workersPort = await startService('workers.ts', {
    EDGE_URL: edge,
    BULL_PREFIX: `stacklight-e2e-${randomUUID()}`,
  });

  // The probe runner, in this process: login passes, the AI probe fails.
  telemetry = init({
    service: 'prober',
    logging: { level: 'silent' },
    metrics: { defaultMetrics: false },
    tracing: { enabled: false },
  });
  probes = createProbeRunner(telemetry, {
    intervalMs: 500,
    probes: [
      {
        name: 'login',
        thresholdMs: 2000,
        run: async ({ fetch }) => {
          const r = await fetch(`${edge}/login`, { method: 'POST' });
          if (r.status !== 200) throw new Error(`status ${r.status}`);
        },
      },
      {
        name: 'ai',
        thresholdMs: 2000,
        run: async ({ fetch }) => {
          const r = await fetch(`${edge}/v1/unknown-fixture`, { method: 'POST' });
          if (r.status !== 200) throw new Error(`status ${r.status}`);
        },
      },
    ],
  });
  probes.start();
  probeServer = createServer((req, res) => telemetry.metricsHandler(req, res));
  await new Promise<void>((r) => probeServer.listen(0, '127.0.0.1', r));
  const probePort = (probeServer.address() as AddressInfo).port;

  const port = await freePort();
  prom = `http://127.0.0.1:${port}`;
  const config = scrapeConfig({
    targets: [`127.0.0.1:${edgePort}`, `127.0.0.1:${workersPort}`, `127.0.0.1:${probePort}`],
    interval: '1s',
    rules: join(dir, '*.rules.yml'),
  });
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  evaluation_interval: 1s\n${config}`);
  const server = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  children.push(server);
  await until(async () => (await fetch(`${prom}/-/ready`)).ok, 20_000);
  // Every recording rule's inputs scraped a few times.
  await until(() => hasData('slo:error_budget:remaining{slo="digest"}'), 30_000);
  await until(() => hasData('sli:job_completion_duration_seconds:p95_rate10m'), 20_000);
  // Each SLI's traffic (reflections over WebSocket and SSE included) reaches
  // its rules at its own pace on a loaded machine: wait for all of them.
  await until(async () => (await recordingsWithoutData()).length === 0, 45_000);
}, 150_000);

afterAll(async () => {
  await probes?.stop();
  probeServer?.close();
  await telemetry?.shutdown();
  for (const c of children.reverse()) {
    c.kill('SIGTERM');
    await new Promise((r) => {
      if (c.exitCode !== null) r(undefined);
      else {
        c.once('exit', r);
        setTimeout(r, 5000);
      }
    });
  }
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

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
      () => hasData('http_synthetic_requests_total{service="edge",route="/login"}'),
      10_000,
    );
    expect(
      await queryPrometheus(
        prom,
        'http_synthetic_requests_total{service="edge",route="/login",code="200"} > 0',
      ),
    ).toHaveLength(1);
    const success = await queryPrometheus(prom, 'probe_success');
    expect(Object.fromEntries(success.map((s) => [s.metric['probe'], s.value[1]]))).toEqual({
      login: '1',
      ai: '0',
    });
    expect(await hasData('probe_duration_seconds{probe="login"}')).toBe(true);
  });

  it('a fault makes the matching alerts go pending, and slo status fails the deploy', async () => {
    await fetch(`${edge}/fault/login-5xx`, { method: 'POST' });
    await fetch(`${edge}/fault/reflect-slow`, { method: 'POST' });
    const pending = async () => {
      const res = (await (await fetch(`${prom}/api/v1/alerts`)).json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      return res.data.alerts
        .filter((a) => a.state === 'pending')
        .map(
          (a) => `${a.labels['alertname']}${a.labels['channel'] ? `{${a.labels['channel']}}` : ''}`,
        );
    };
    await until(async () => {
      const p = await pending();
      return p.includes('EdgeAvailabilityBurn') && p.includes('ReflectLatencyP95High{ws}');
    }, 30_000);
    const now = await pending();
    expect(now).toContain('EdgeAvailabilityBurn');
    expect(now).toContain('ReflectLatencyP95High{ws}');
    expect(now).not.toContain('ReflectLatencyP95High{sse}');

    const report = await sloStatus(prom);
    const text = formatSloStatus(report);
    expect(
      report.rows.filter((r) => r.state === 'no data'),
      text,
    ).toEqual([]);
    expect(
      report.rows.find((r) => r.slo === 'login' && r.objective === 'availability')!.state,
      text,
    ).toBe('exhausted');
    // The AI probe always fails; the login probe fails with most logins (its last run decides).
    expect(report.failingProbes).toContain('ai');
    expect(report.pass).toBe(false);
    expect(text).toMatch(/^login +availability +99\.90% /m);
  }, 45_000);
});
