/**
 * `npm run demo` end to end: the real entry (the `demo` script of
 * package.json) in a child process, with the real services, Redis, OTLP
 * collector and PostgreSQL (when one answers), for a short run.
 *
 * - with the local Redis: every service serves traffic and the summary's
 *   trace crosses at least four services (Web → Edge → Core → queue →
 *   Workers → AI Coach → outbox → WebSocket);
 * - with REDIS_URL where nothing listens: the demo starts a redis-server of
 *   its own when the binary exists (else runs without the worker stack and
 *   says so), and still does all of the above.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closedPort, demoCommand, demoEnv, ROOT } from './helpers.js';

interface DemoJson {
  services: { name: string; requests: number; p95Ms: number | null; errors: number }[];
  trace: {
    traceId: string;
    spans: { service: string; name: string; startMs: number; durationMs: number }[];
  } | null;
  redis: string | null;
  prometheus: {
    targets: { service: string; health: string }[];
    alerts: { name: string; state: string }[];
  } | null;
}

async function runDemo(
  env: Record<string, string>,
  seconds: number,
  extraArgs: string[] = [],
): Promise<{ code: number | null; out: string; json: DemoJson }> {
  const dir = mkdtempSync(join(tmpdir(), 'stacklight-demo-test-'));
  const jsonFile = join(dir, 'summary.json');
  const child = spawn(
    process.execPath,
    [
      ...demoCommand(),
      '--duration',
      String(seconds),
      '--json',
      jsonFile,
      '--logs',
      join(dir, 'logs'),
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      env: demoEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  // Bounds a hang only: the run itself takes `seconds` plus start and stop.
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code !== 0) throw new Error(`demo exited ${code}:\n${out}`);
  return { code, out, json: JSON.parse(readFileSync(jsonFile, 'utf8')) as DemoJson };
}

function expectEveryServiceServed(json: DemoJson, names: string[]): void {
  expect(json.services.map((s) => s.name).sort()).toEqual([...names].sort());
  for (const s of json.services) {
    expect(s.requests, `${s.name} served no traffic`).toBeGreaterThan(0);
    expect(s.p95Ms, `${s.name} has no p95`).toBeGreaterThan(0);
  }
}

function expectEndToEndTrace(json: DemoJson, minServices: number): Set<string> {
  expect(json.trace).not.toBeNull();
  const services = new Set(json.trace!.spans.map((s) => s.service));
  expect(
    services.size,
    `services in the trace: ${[...services].join(', ')}`,
  ).toBeGreaterThanOrEqual(minServices);
  expect(json.trace!.traceId).toMatch(/^[0-9a-f]{32}$/);
  const names = json.trace!.spans.map((s) => s.name);
  expect(names).toContain('outbox.append');
  expect(names).toContain('nlg.reflect');
  expect(names).toContain('WS send');
  for (const span of json.trace!.spans) {
    expect(span.startMs).toBeGreaterThanOrEqual(0);
    expect(span.durationMs).toBeGreaterThanOrEqual(0);
  }
  return services;
}

describe('npm run demo', { timeout: 180_000 }, () => {
  it('with the local Redis, every service serves traffic, one trace crosses the stacks, and Prometheus scrapes them all', async () => {
    // Rules as --rules loads them: the `job` label of the job metrics must survive the scrape.
    const rules = mkdtempSync(join(tmpdir(), 'stacklight-demo-rules-'));
    writeFileSync(
      join(rules, 'demo-test.yml'),
      [
        'groups:',
        '  - name: demo-test',
        '    rules:',
        '      - alert: EdgeServesTraffic',
        '        expr: sum(http_requests_total{service="edge"}) > 0',
        '      - alert: ImportRunsLabelled',
        '        expr: sum(job_duration_ms_count{job="import"}) > 0',
        '      - alert: NeverFires',
        '        expr: vector(0) > 1',
        '',
      ].join('\n'),
    );
    const { out, json } = await runDemo({ REDIS_URL: 'redis://127.0.0.1:6379' }, 15, [
      '--prometheus',
      '--rules',
      rules,
    ]);
    expectEveryServiceServed(json, ['edge', 'core', 'workers', 'ai-coach']);
    const services = expectEndToEndTrace(json, 4);
    expect(services).toContain('workers');
    expect(json.trace!.spans.map((s) => s.name)).toContain('process q_score');
    expect(json.redis).toBe('redis://127.0.0.1:6379');
    expect(out).toContain('SLOs (whole run, from /metrics)');
    expect(out).toMatch(/login p95 ≤ 250 ms .*(holds|BROKEN)/);

    expect(json.prometheus, 'prometheus did not start (apt-get install prometheus)').not.toBeNull();
    expect(json.prometheus!.targets).toEqual(
      expect.arrayContaining(
        ['edge', 'core', 'workers', 'ai-coach'].map((service) => ({ service, health: 'up' })),
      ),
    );
    expect(json.prometheus!.alerts).toEqual(
      expect.arrayContaining([
        { name: 'EdgeServesTraffic', state: 'firing' },
        { name: 'ImportRunsLabelled', state: 'firing' },
      ]),
    );
    expect(json.prometheus!.alerts.map((a) => a.name)).not.toContain('NeverFires');
    expect(out).toMatch(/alerts +firing: EdgeServesTraffic, ImportRunsLabelled · pending: none/);
  });

  it('with nothing on REDIS_URL, it starts a redis-server of its own (or runs without workers, and says so)', async () => {
    const nowhere = `redis://127.0.0.1:${await closedPort()}`;
    const { out, json } = await runDemo({ REDIS_URL: nowhere }, 15);
    const hasRedisServer = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;
    if (hasRedisServer) {
      expect(out).toContain(`local redis-server on redis://127.0.0.1:`);
      expect(out).toContain(`nothing answers on ${nowhere}`);
      expect(json.redis).not.toBe(nowhere);
      expectEveryServiceServed(json, ['edge', 'core', 'workers', 'ai-coach']);
    } else {
      expect(out).toContain('running without the worker stack');
      expectEveryServiceServed(json, ['edge', 'core', 'ai-coach']);
    }
    expectEndToEndTrace(json, 4);
  });
});
