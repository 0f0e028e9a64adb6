import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { stacklightPlugin } from '../../src/fastify.js';
import { checkExposition } from '../../src/lint/exposition.js';
import { promtoolCheckMetrics } from '../helpers/promtool.js';

const CLI = join(import.meta.dirname, '../../src/cli.ts');

/** Runs the real CLI (through tsx) and returns its exit code and output. */
function cli(
  args: string[],
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'check-metrics', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, STACKLIGHT_METRICS_TOKEN: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

function family(name: string, type: string, lines: string, help = 'Some help.'): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${lines}\n`;
}

describe('stacklight check-metrics on a running instrumented service', () => {
  let telemetry: Telemetry;
  let app: ReturnType<typeof Fastify>;
  let url: string;

  beforeAll(async () => {
    telemetry = init({
      service: 'edge',
      env: 'test',
      tracing: { enabled: false },
      logging: { level: 'silent' },
      shutdown: { handleSignals: false },
    });
    const orders = telemetry.defineMetric({
      name: 'orders_created_total',
      type: 'counter',
      help: 'Orders created, by channel.',
      labelNames: ['channel'],
    } as const);
    app = Fastify();
    await app.register(stacklightPlugin, { telemetry, metricsEndpoint: true });
    app.get('/users/:id', async () => {
      orders.inc({ channel: 'web' });
      return { ok: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 5; i++) await fetch(`${url}/users/${i}`);
    await fetch(`${url}/nope`);
  });
  afterAll(async () => {
    await app.close();
    await telemetry.shutdown();
  });

  it('finds nothing wrong in Prometheus text and exits 0, listing the largest families', async () => {
    const r = await cli([`${url}/metrics`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('ok: no violations');
    expect(r.stdout).toMatch(/cardinality \(families with the most series\):\n/);
    expect(r.stdout).toMatch(/\n\s+2 {2}http_requests_total\n/);
    expect(r.code).toBe(0);
  });

  it('reads OpenMetrics (counters without _total in # TYPE) and reports JSON', async () => {
    const r = await cli([`${url}/metrics`, '--openmetrics', '--format', 'json', '--top', '100']);
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      format: string;
      violations: unknown[];
      exceptions: { family: string }[];
      cardinality: { family: string; series: number }[];
    };
    expect(report.format).toBe('openmetrics');
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.cardinality).toContainEqual({ family: 'orders_created_total', series: 1 });
    // prom-client's _total gauges are listed as known exceptions, not violations.
    expect(report.exceptions.map((e) => e.family)).toContain('nodejs_active_handles_total');
    expect(r.code).toBe(0);
  });

  it('agrees with promtool on the same exposition except for the documented differences', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const problems = promtoolCheckMetrics(text).problems;
    // promtool flags the spec's _ms names and prom-client's _total gauges; both are intended.
    for (const p of problems) {
      expect(p).toMatch(
        /^(job_duration_ms|event_delivery_lag_ms|vendor_req_duration_ms|ai_request_duration_ms) metric names should not contain abbreviated units$|^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/,
      );
    }
    expect(checkExposition(text).violations).toEqual([]);
  });
});

/**
 * One crafted exposition per rule, with the verdict of check-metrics (its
 * rule id, or null) and of promtool (a problem it prints, or null). Every
 * row where they differ is a difference documented in
 * docs/lint/check-metrics.md.
 */
const CASES: { name: string; text: string; ours: string | null; promtool: string | null }[] = [
  {
    name: 'clean',
    text: family('orders_created_total', 'counter', 'orders_created_total{service="a"} 1'),
    ours: null,
    promtool: null,
  },
  {
    name: 'camelCase name',
    text: family('ordersCreated_total', 'counter', 'ordersCreated_total{service="a"} 1'),
    ours: 'name-snake-case',
    promtool: "metric names should be written in 'snake_case' not 'camelCase'",
  },
  {
    name: 'colon in name',
    text: family('app:orders_total', 'counter', 'app:orders_total{service="a"} 1'),
    ours: 'name-grammar',
    promtool: "metric names should not contain ':'",
  },
  {
    name: 'counter without _total',
    text: family('orders_created', 'counter', 'orders_created{service="a"} 1'),
    ours: 'counter-total',
    promtool: 'counter metrics should have "_total" suffix',
  },
  {
    name: 'gauge with _total',
    text: family('open_orders_total', 'gauge', 'open_orders_total{service="a"} 1'),
    ours: 'total-only-counters',
    promtool: 'non-counter metrics should not have "_total" suffix',
  },
  {
    name: 'gauge with _count',
    text: family('orders_count', 'gauge', 'orders_count{service="a"} 1'),
    ours: 'reserved-suffix',
    promtool: 'non-histogram and non-summary metrics should not have "_count" suffix',
  },
  {
    name: 'abbreviated unit',
    text: family('render_time_ms', 'gauge', 'render_time_ms{service="a"} 1'),
    ours: 'base-unit',
    promtool: 'metric names should not contain abbreviated units',
  },
  {
    name: 'scaled unit',
    text: family('payload_kilobytes', 'gauge', 'payload_kilobytes{service="a"} 1'),
    ours: 'base-unit',
    promtool: 'use base unit "bytes" instead of "kilobytes"',
  },
  {
    name: 'histogram without unit',
    text: family(
      'render_time',
      'histogram',
      'render_time_bucket{service="a",le="+Inf"} 1\nrender_time_sum{service="a"} 1\nrender_time_count{service="a"} 1',
    ),
    ours: 'unit-suffix',
    promtool: null,
  },
  {
    name: 'camelCase label',
    text: family('logins_total', 'counter', 'logins_total{service="a",userTier="x"} 1'),
    ours: 'label-snake-case',
    promtool: "label names should be written in 'snake_case' not 'camelCase'",
  },
  {
    name: 'reserved label __',
    text: family('logins_total', 'counter', 'logins_total{service="a",__tier="x"} 1'),
    ours: 'reserved-label',
    promtool: null,
  },
  {
    name: 'le on a counter',
    text: family('logins_total', 'counter', 'logins_total{service="a",le="1"} 1'),
    ours: 'reserved-label',
    promtool: 'non-histogram metrics should not have "le" label',
  },
  {
    name: 'no help',
    text: '# TYPE logins_total counter\nlogins_total{service="a"} 1\n',
    ours: 'help',
    promtool: 'no help text',
  },
  {
    name: 'untyped',
    text: 'logins_total{service="a"} 1\n',
    ours: 'metric-type',
    promtool: 'no help text',
  },
  {
    name: 'missing service',
    text: family('logins_total', 'counter', 'logins_total 1'),
    ours: 'missing-service',
    promtool: null,
  },
  {
    name: 'high-cardinality label',
    text: family('logins_total', 'counter', 'logins_total{service="a",user_id="42"} 1'),
    ours: 'high-cardinality-label',
    promtool: null,
  },
  {
    name: 'catalog type',
    text: family('queue_depth', 'counter', 'queue_depth{service="a",queue="q",state="waiting"} 1'),
    ours: 'catalog-type',
    promtool: 'counter metrics should have "_total" suffix',
  },
  {
    name: 'catalog labels',
    text: family('http_requests_total', 'counter', 'http_requests_total{service="a",path="/x"} 1'),
    ours: 'catalog-labels',
    promtool: null,
  },
  {
    name: 'catalog buckets',
    text: family(
      'http_request_duration_seconds',
      'histogram',
      [
        'http_request_duration_seconds_bucket{service="a",route="/",method="GET",code="200",le="0.3"} 1',
        'http_request_duration_seconds_bucket{service="a",route="/",method="GET",code="200",le="+Inf"} 1',
        'http_request_duration_seconds_sum{service="a",route="/",method="GET",code="200"} 0.1',
        'http_request_duration_seconds_count{service="a",route="/",method="GET",code="200"} 1',
      ].join('\n'),
    ),
    ours: 'catalog-buckets',
    promtool: null,
  },
  {
    name: 'unparsable sample',
    text: family('logins_total', 'counter', 'logins_total{service="a"} one'),
    ours: 'parse',
    promtool: 'error while linting',
  },
];

describe('stacklight check-metrics on crafted expositions, against promtool', () => {
  it.each(CASES)('$name', ({ text, ours, promtool }) => {
    const report = checkExposition(text);
    const rules = report.violations.map((v) => v.rule);
    if (ours === null) expect(rules).toEqual([]);
    else expect(rules).toContain(ours);

    const p = promtoolCheckMetrics(text);
    if (promtool === null) {
      expect(p.problems).toEqual([]);
      expect(p.status).toBe(0);
    } else {
      expect(p.problems.join('\n')).toContain(promtool);
      expect(p.status).not.toBe(0);
    }
  });

  it(
    'exits 1 on violations (file), reads standard input, and exits 2 on usage or fetch errors',
    {
      timeout: 60_000,
    },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'stacklight-check-'));
      const file = join(dir, 'bad.prom');
      writeFileSync(file, family('orders_placed', 'counter', 'orders_placed 1'));
      // Five real CLI processes, started together (each loads tsx).
      const [bad, piped, usage, missing, refused] = await Promise.all([
        cli([file]),
        cli(['-', '--format', 'json'], CASES[0]!.text),
        cli(['--format', 'yaml', file]),
        cli([join(dir, 'nope.prom')]),
        // A port nothing listens on: connection refused.
        cli(['http://127.0.0.1:9/metrics', '--timeout', '2000']),
      ]);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toContain(
        'orders_placed  [counter-total] counter "orders_placed" must end in _total: write "orders_placed_total"',
      );
      expect(bad.stdout).toContain('[missing-service]');
      expect(bad.stdout).toMatch(/\n2 violation\(s\)\n$/);

      expect(piped.code).toBe(0);
      expect(JSON.parse(piped.stdout)).toMatchObject({ ok: true, families: 1, series: 1 });

      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain('--format must be text or json, got "yaml"');

      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/cannot read .*nope\.prom: ENOENT/);

      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('cannot read http://127.0.0.1:9/metrics');
    },
  );
});
