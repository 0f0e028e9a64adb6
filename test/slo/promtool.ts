/**
 * Runs the real `promtool test rules` on the generated rule files: builds a
 * test file from input series and expected alerts, where the expected
 * labels and annotations come from the generated rule itself (templates
 * expanded), so a test pins which alert fires with which labels.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRules, ruleFiles } from '../../src/slo/rules.js';
import { toYaml, type YamlMap } from '../../src/slo/yaml.js';

export interface Series {
  readonly series: string;
  readonly values: string;
}

export interface AlertCheck {
  /** Evaluation time: `70m`. */
  readonly at: string;
  readonly alert: string;
  /** Labels each firing alert has beyond the rule's own (from the expression); [] = silent. */
  readonly firing: readonly Readonly<Record<string, string>>[];
}

export interface PromtoolRun {
  readonly status: number | null;
  readonly output: string;
}

/** A folder holding the generated rule files and the spec's original rules. */
export function ruleDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stacklight-rules-'));
  for (const f of generateRules()) writeFileSync(join(dir, f.path), f.content);
  copyFileSync(
    new URL('./fixtures/spec-original.rules.yml', import.meta.url),
    join(dir, 'spec-original.rules.yml'),
  );
  return dir;
}

const rules = new Map<string, YamlMap>();
for (const file of ruleFiles())
  for (const group of file.groups)
    for (const rule of group['rules'] as YamlMap[])
      if (typeof rule['alert'] === 'string') rules.set(rule['alert'], rule);

/** The generated alerting rule named `name`. */
export function alertRule(name: string): YamlMap {
  const rule = rules.get(name);
  if (rule === undefined) throw new Error(`no generated alert named ${name}`);
  return rule;
}

function expand(text: string, labels: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{ \$labels\.([a-zA-Z_]+) \}\}/g, (_, l: string) => labels[l] ?? '');
}

function expected(alert: string, extra: Readonly<Record<string, string>>): YamlMap {
  if (alert.startsWith('Spec')) return { exp_labels: { severity: 'page', ...extra } };
  const rule = alertRule(alert);
  const labels = { ...(rule['labels'] as Record<string, string>), ...extra };
  const annotations = Object.fromEntries(
    Object.entries(rule['annotations'] as Record<string, string>).map(([k, v]) => [
      k,
      expand(v, labels),
    ]),
  );
  return { exp_labels: labels, exp_annotations: annotations };
}

/** Runs one promtool unit test in `dir`, loading only `files` (each run evaluates every rule loaded). */
export function promtoolTest(
  dir: string,
  files: readonly string[],
  name: string,
  series: readonly Series[],
  checks: readonly AlertCheck[],
): PromtoolRun {
  const test = toYaml({
    rule_files: files,
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: series.map((s) => ({ series: s.series, values: s.values })),
        alert_rule_test: checks.map((c) => ({
          eval_time: c.at,
          alertname: c.alert,
          exp_alerts: c.firing.map((labels) => expected(c.alert, labels)),
        })),
      },
    ],
  });
  const path = join(dir, `${name}.test.yml`);
  writeFileSync(path, test);
  const r = spawnSync('promtool', ['test', 'rules', path], { encoding: 'utf8', cwd: dir });
  if (r.error)
    throw new Error(`promtool not runnable (apt-get install prometheus): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
