import { spawn, spawnSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createProbeRunner, type ProbeContext } from '../../src/slo/probes.js';
import { generateRules } from '../../src/slo/rules.js';
import { createLogCapture, type LogCapture } from '../helpers/log-capture.js';

let telemetry: Telemetry;
let logs: LogCapture;
let server: Server;
let base = '';
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  logs = createLogCapture();
  telemetry = init({
    service: 'prober',
    logging: { destination: logs.stream, level: 'info' },
    metrics: { defaultMetrics: false },
    tracing: { enabled: false },
  });
  server = createServer((req, res) => {
    seen.push(req.headers);
    res.statusCode = req.url === '/ok' ? 200 : req.url === '/slow' ? 200 : 500;
    if (req.url === '/slow') setTimeout(() => res.end(), 120);
    else res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await telemetry.shutdown();
});

const check = (path: string) => async (ctx: ProbeContext) => {
  const r = await ctx.fetch(`${base}${path}`, { headers: { baggage: 'tenant=t1' } });
  if (r.status !== 200) throw new Error(`status ${r.status}`);
};

describe('probe runner', () => {
  it('exports probe_success and probe_duration_seconds, logs each result, and a failure with its trace id', async () => {
    const runner = createProbeRunner(telemetry, {
      probes: [
        { name: 'login', thresholdMs: 1000, run: check('/ok') },
        { name: 'reflect', thresholdMs: 1000, run: check('/broken') },
        { name: 'import', thresholdMs: 50, run: check('/slow') },
      ],
    });
    const results = await runner.runOnce();
    expect(results.map((r) => [r.probe, r.success, r.reason])).toEqual([
      ['login', true, undefined],
      ['reflect', false, 'status 500'],
      ['import', false, 'slower than 50 ms'],
    ]);
    const text = await telemetry.registry.metrics();
    expect(text).toMatch(/^probe_success\{probe="login",service="prober"\} 1$/m);
    expect(text).toMatch(/^probe_success\{probe="reflect",service="prober"\} 0$/m);
    const seconds = Number(
      /^probe_duration_seconds\{probe="import",service="prober"\} (\S+)$/m.exec(text)![1],
    );
    expect(seconds).toBeGreaterThanOrEqual(0.12); // the server answered after 120 ms

    const failed = logs.lines().filter((l) => l['msg'] === 'probe failed');
    expect(failed.map((l) => (l['extra'] as { probe: string }).probe).sort()).toEqual([
      'import',
      'reflect',
    ]);
    const reflect = results.find((r) => r.probe === 'reflect')!;
    const line = failed.find((l) => (l['extra'] as { probe: string }).probe === 'reflect')!;
    expect(line['level']).toBe('error');
    expect((line['extra'] as { traceId: string }).traceId).toBe(reflect.traceId);
    expect(logs.lines().filter((l) => l['msg'] === 'probe passed')).toHaveLength(1);

    // Each request carried the run's trace context and synthetic=true next to its own baggage.
    const req = seen.find((h) => h.traceparent?.includes(reflect.traceId))!;
    expect(req.traceparent).toMatch(new RegExp(`^00-${reflect.traceId}-[0-9a-f]{16}-01$`));
    expect(req.baggage).toBe('tenant=t1,synthetic=true');
  });

  it('abandons a run at its timeout', async () => {
    const runner = createProbeRunner(telemetry, {
      probes: [
        { name: 'hang', thresholdMs: 10, timeoutMs: 100, run: () => new Promise(() => undefined) },
      ],
    });
    const [r] = await runner.runOnce();
    expect(r).toMatchObject({ probe: 'hang', success: false, reason: 'timeout after 100 ms' });
  });

  it('names a bad probe definition', () => {
    expect(() =>
      createProbeRunner(telemetry, {
        probes: [{ name: 'Login', thresholdMs: 1, run: async () => 1 }],
      }),
    ).toThrow(
      'stacklight: probe.name must be lower-case letters, digits, "_" and "-", got "Login"',
    );
  });
});

describe('CLI', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      encoding: 'utf8',
      cwd: new URL('../../', import.meta.url).pathname,
    });

  it('stacklight rules --out writes the generated files', () => {
    const out = mkdtempSync(join(tmpdir(), 'stacklight-cli-'));
    const r = cli(['rules', '--out', out, '--docs-base', 'https://docs.example.com/ops']);
    expect(r.status, r.stderr).toBe(0);
    const expected = generateRules({ docsBase: 'https://docs.example.com/ops' });
    expect(readdirSync(out).sort()).toEqual(expected.map((f) => f.path).sort());
    for (const f of expected) expect(readFileSync(join(out, f.path), 'utf8')).toBe(f.content);
  });

  it('stacklight rules --config adds a service’s own SLO', () => {
    const out = mkdtempSync(join(tmpdir(), 'stacklight-cli-'));
    const config = join(out, 'slo.config.mjs');
    const src = new URL('../../src/slo/index.ts', import.meta.url).href;
    writeFileSync(
      config,
      `import { specSlos, defineSlo } from ${JSON.stringify(src)};\n` +
        `export default { slos: [...specSlos(), defineSlo({ name: 'checkout', title: 'Checkout', description: 'Orders', window: '28d', runbook: 'rb-01-edge-availability', objectives: [{ name: 'availability', description: '99.5 %', target: 0.995, sli: { kind: 'ratio', metric: 'http_requests_total', matchers: 'service="shop"', badMatchers: 'code=~"5.."' } }] })] };\n`,
    );
    const r = cli(['rules', '--out', join(out, 'rules'), '--config', config]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'rules', 'slo-checkout.rules.yml'), 'utf8')).toContain(
      "alert: 'CheckoutAvailabilityBurn'",
    );
  });

  it('refuses unknown arguments and a missing --out with exit code 2', () => {
    expect(cli(['rules']).status).toBe(2);
    const r = cli(['rules', '--outt', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('stacklight rules: unknown argument "--outt"');
  });

  it('stacklight slo status exits 1 when a budget is spent, 0 when all are left, 1 when Prometheus is unreachable', async () => {
    let budget = '0.5';
    const prom = createServer((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams.get('query')!;
      const result =
        q === 'min by (probe) (probe_success)'
          ? [{ metric: { probe: 'login' }, value: [0, '1'] }]
          : [
              {
                metric: { slo: 'login', objective: 'availability' },
                value: [0, q.includes('budget') ? budget : '0.0005'],
              },
            ];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    await new Promise<void>((r) => prom.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(prom.address() as AddressInfo).port}`;
    const run = () =>
      new Promise<{ status: number | null; stdout: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', 'src/cli.ts', 'slo', 'status', '--prometheus', url],
          {
            cwd: new URL('../../', import.meta.url).pathname,
          },
        );
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.on('exit', (status) => resolve({ status, stdout }));
      });
    const ok = await run();
    expect(ok.stdout).toMatch(/^login +availability +99\.90% +99\.950% +50\.0% +ok$/m);
    expect(ok.stdout).toMatch(/^import +latency_p95 +95\.00% +- +- +no data$/m);
    expect(ok.status).toBe(0);
    budget = '-0.2';
    const spent = await run();
    expect(spent.stdout).toMatch(/^login +availability .* exhausted$/m);
    expect(spent.status).toBe(1);
    prom.close();
    const down = cli(['slo', 'status', '--prometheus', url]);
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/^stacklight slo: /);
  });
});
