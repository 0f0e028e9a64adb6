#!/usr/bin/env node
// Installs the packed tarball with ESLint into a throw-away project and runs
// `stacklight/eslint-plugin`'s recommended config on a good and a bad file:
// the good one must lint clean, the bad one must fail with every rule.
// Usage: node scripts/lint-consumer.mjs path/to/stacklight-x.y.z.tgz
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const started = Date.now();
const tarball = resolve(process.argv[2] ?? '');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'stacklight-lint-consumer-'));
const fail = (msg) => {
  console.error(`lint-consumer: ${msg}`);
  process.exitCode = 1;
};

try {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'lint-consumer', private: true, version: '0.0.0', type: 'module' }),
  );
  execFileSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      tarball,
      `eslint@${pkg.devDependencies.eslint}`,
    ],
    { cwd: dir, stdio: 'inherit' },
  );
  writeFileSync(
    join(dir, 'eslint.config.js'),
    "import stacklight from 'stacklight/eslint-plugin';\nexport default [...stacklight.configs.recommended];\n",
  );
  writeFileSync(
    join(dir, 'good.js'),
    [
      "const orders = telemetry.defineMetric({ name: 'orders_created_total', type: 'counter', help: 'Orders.', labelNames: ['channel'] });",
      "orders.inc({ channel: 'web' });",
      "telemetry.metrics.httpRequestsTotal.inc({ route: '/login', method: 'POST', code: 200 });",
      "logger.info({ userId: 'u_1', route: '/login' }, 'login');",
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'bad.js'),
    [
      "const orders = telemetry.defineMetric({ name: 'ordersCreated', type: 'counter', help: 'Orders.', labelNames: ['userId'] });",
      "telemetry.metrics.httpRequestsTotal.inc({ path: '/login', method: 'POST', code: 200 });",
      "logger.info({ email: user.email }, 'login');",
      '',
    ].join('\n'),
  );
  const eslint = (file) =>
    spawnSync(process.execPath, ['node_modules/eslint/bin/eslint.js', '--format', 'json', file], {
      cwd: dir,
      encoding: 'utf8',
    });

  const good = eslint('good.js');
  if (good.status !== 0)
    fail(`good.js should lint clean, got exit ${good.status}:\n${good.stdout}${good.stderr}`);

  const bad = eslint('bad.js');
  const rules = new Set(
    bad.status === 1 ? JSON.parse(bad.stdout)[0].messages.map((m) => m.ruleId) : [],
  );
  const expected = [
    'stacklight/metric-name',
    'stacklight/no-high-cardinality-labels',
    'stacklight/catalog-labels',
    'stacklight/log-fields',
  ];
  if (bad.status !== 1 || expected.some((r) => !rules.has(r)))
    fail(
      `bad.js should fail with ${expected.join(', ')}; exit ${bad.status}, rules [${[...rules].join(', ')}]\n${bad.stderr}`,
    );

  if (!process.exitCode)
    console.log(
      `lint-consumer ok: good.js clean, bad.js reported by ${expected.length} rules (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
