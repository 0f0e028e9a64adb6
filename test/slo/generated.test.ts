import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deployFiles } from '../../scripts/deploy-files.js';
import { dashboardSpecs, generateDashboards, runnableQuery } from '../../src/slo/dashboards.js';
import { ruleFiles, runbookUrl, DEFAULT_DOCS_BASE } from '../../src/slo/rules.js';
import { resolveSpecNames } from '../../src/slo/spec.js';
import { toYaml, type YamlMap } from '../../src/slo/yaml.js';
import { allMetricDefinitions } from '../../src/metrics/catalog.js';

const root = new URL('../../', import.meta.url).pathname;

describe('deploy/ (generated files, checked in)', () => {
  it('is what npm run generate:deploy writes, byte for byte', () => {
    const files = deployFiles();
    for (const f of files)
      expect(readFileSync(join(root, 'deploy', f.path), 'utf8'), `deploy/${f.path}`).toBe(
        f.content,
      );
    const listed = (dir: string) =>
      readdirSync(join(root, 'deploy', dir)).map((f) => `${dir}/${f}`);
    expect([...listed('prometheus/rules'), ...listed('grafana/dashboards')].sort()).toEqual(
      files
        .map((f) => f.path)
        .filter((p) => p !== 'prometheus/scrape-config.yml')
        .sort(),
    );
  });

  it('loads as a Prometheus configuration with its rule files (promtool check config)', () => {
    const r = spawnSync(
      'promtool',
      ['check', 'config', join(root, 'deploy/prometheus/scrape-config.yml')],
      {
        encoding: 'utf8',
      },
    );
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('SUCCESS: 7 rule files found');
  });
});

const alerts: YamlMap[] = ruleFiles().flatMap((f) =>
  f.groups.flatMap((g) => (g['rules'] as YamlMap[]).filter((r) => typeof r['alert'] === 'string')),
);

describe('runbooks', () => {
  it('every generated alert links a runbook page that exists under docs/runbooks/', () => {
    expect(alerts.length).toBeGreaterThan(10);
    for (const alert of alerts) {
      const url = (alert['annotations'] as Record<string, string>)['runbook_url']!;
      const slug = url.slice(`${DEFAULT_DOCS_BASE}/runbooks/`.length, -'.html'.length);
      expect(url, String(alert['alert'])).toBe(runbookUrl(DEFAULT_DOCS_BASE, slug));
      expect(
        existsSync(join(root, 'docs/runbooks', `${slug}.md`)),
        `${alert['alert']} → ${slug}`,
      ).toBe(true);
    }
  });

  it('every runbook page RB-01…RB-08 exists and names its dashboard panel', () => {
    const pages = readdirSync(join(root, 'docs/runbooks')).filter((f) => /^rb-0[1-8]-/.test(f));
    const panels = dashboardSpecs(resolveSpecNames()).flatMap((d) =>
      d.panels.map((p) => `${d.title} → ${p.title}`),
    );
    for (const page of pages) {
      const text = readFileSync(join(root, 'docs/runbooks', page), 'utf8');
      const named = [...text.matchAll(/\*\*([^*]+ → [^*]+)\*\*/g)].map((m) => m[1]!);
      expect(named.length, page).toBeGreaterThan(0);
      for (const n of named) expect(panels, `${page}: ${n}`).toContain(n);
    }
    expect(pages.map((p) => p.slice(0, 5)).sort()).toEqual([
      'rb-01',
      'rb-02',
      'rb-03',
      'rb-04',
      'rb-05',
      'rb-06',
      'rb-07',
      'rb-08',
    ]);
  });
});

describe('dashboards', () => {
  const specs = dashboardSpecs(resolveSpecNames());

  it('are the spec four, with datasource, service and env variables', () => {
    const files = generateDashboards();
    expect(files.map((f) => f.path)).toEqual([
      'user-journey.json',
      'core-workers.json',
      'ai-coach.json',
      'infra.json',
    ]);
    for (const f of files) {
      const d = JSON.parse(f.content) as {
        templating: { list: { name: string }[] };
        panels: { datasource: { uid: string } }[];
      };
      expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'service', 'env']);
      for (const p of d.panels) expect(p.datasource.uid).toBe('${datasource}');
    }
  });

  it('every alert points at a dashboard panel that exists', () => {
    const panels = new Set(specs.flatMap((d) => d.panels.map((p) => `${d.uid} / ${p.title}`)));
    for (const alert of alerts) {
      const dash = (alert['annotations'] as Record<string, string>)['dashboard'];
      expect(panels.has(dash!), `${alert['alert']} → ${dash}`).toBe(true);
    }
  });

  it('every query is valid PromQL (promtool parses it) and stacklight panels read catalog names only', () => {
    const known = new Set(
      allMetricDefinitions().flatMap((d) =>
        d.type === 'histogram'
          ? [`${d.name}_bucket`, `${d.name}_count`, `${d.name}_sum`]
          : [d.name],
      ),
    );
    const rules: YamlMap[] = [];
    for (const d of specs)
      for (const p of d.panels)
        for (const q of p.queries) {
          rules.push({ record: `dashboard:query:${rules.length}`, expr: runnableQuery(q.expr) });
          if (p.source !== 'stacklight') continue;
          const names = q.expr.match(/\b[a-z_:][a-z0-9_:]*(?=\{)/g) ?? [];
          expect(names.length, q.expr).toBeGreaterThan(0);
          for (const n of names)
            expect(known.has(n) || n.startsWith('slo:'), `${p.title}: ${n}`).toBe(true);
        }
    const dir = mkdtempSync(join(tmpdir(), 'stacklight-dash-'));
    const file = join(dir, 'queries.yml');
    writeFileSync(file, toYaml({ groups: [{ name: 'dashboard-queries', rules }] }));
    const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });
});
