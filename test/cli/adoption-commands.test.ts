import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const run = (args: string, env: Record<string, string> = {}) =>
  spawnSync(
    'bash',
    ['-o', 'pipefail', '-c', `"${process.execPath}" --import tsx "${cli}" ${args}`],
    {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    },
  );

describe('stacklight CLI', () => {
  it('ends quietly when its output pipe closes early (catalog | head -1)', () => {
    const r = run('catalog | head -1');
    expect(r.stdout.split('\n').filter((l) => l !== '')).toHaveLength(1);
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.status).toBe(0);
  });

  it('prints the catalog as JSON with --json', () => {
    const r = run('catalog --json');
    const list = JSON.parse(r.stdout) as { name: string; labelNames: string[] }[];
    expect(list.find((m) => m.name === 'http_requests_total')?.labelNames).toEqual([
      'route',
      'method',
      'code',
    ]);
  });

  it('doctor shows where values come from, hides the DSN and checks the endpoint', () => {
    const r = run('doctor', {
      OTEL_SERVICE_NAME: 'doc-svc',
      SENTRY_DSN: 'https://secretKey123@127.0.0.1:9/1',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('service · "doc-svc" · OTEL_SERVICE_NAME');
    expect(r.stdout).toContain('sentry.dsn · (set, hidden) · SENTRY_DSN');
    expect(r.stdout).not.toContain('secretKey123');
    expect(r.stdout).toMatch(/@opentelemetry\/api copies:\n {2}\d+\.\d+\.\d+ at /);
    expect(r.stdout).toContain('OTLP endpoint http://127.0.0.1:9/v1/traces: does not answer');
  });
});
