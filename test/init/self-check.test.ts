import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { SDK_VERSION } from '../../src/index.js';
import { checkPrometheusClients } from '../../src/self-check.js';

function fakeApp(packages: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'stacklight-app-'));
  writeFileSync(join(dir, 'package.json'), '{"name":"app"}');
  for (const name of packages) {
    const p = join(dir, 'node_modules', name);
    mkdirSync(p, { recursive: true });
    writeFileSync(
      join(p, 'package.json'),
      JSON.stringify({ name, version: '1.0.0', main: 'index.js' }),
    );
    writeFileSync(join(p, 'index.js'), 'module.exports = {};');
  }
  return dir;
}

describe('start-up self-check', () => {
  it('says nothing for a clean install', () => {
    expect(checkPrometheusClients(process.cwd())).toBeUndefined();
  });

  it('finds a second prom-client copy the service resolves, with the fix', () => {
    const app = fakeApp(['prom-client']);
    try {
      const warning = checkPrometheusClients(app);
      expect(warning).toContain('2 copies of prom-client are installed');
      expect(warning).toContain('Fix: run "npm dedupe"');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('finds @prometheus-io/client beside stacklight', () => {
    const app = fakeApp(['@prometheus-io/client']);
    try {
      expect(checkPrometheusClients(app)).toContain(
        '@prometheus-io/client is installed beside stacklight',
      );
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it('finds stacklight loaded twice (a second module instance)', async () => {
    const first = await import('../../src/self-check.js');
    expect(first.checkDuplicateCopies()).toBeUndefined();
    vi.resetModules();
    const second = await import('../../src/self-check.js');
    expect(second.checkDuplicateCopies()).toContain('stacklight is loaded 2 times in this process');
  });

  it('exports the version of package.json', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(SDK_VERSION).toBe(pkg.version);
  });
});
