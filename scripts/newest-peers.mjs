#!/usr/bin/env node
// Runs the tests that exercise stacklight's dependencies and peers against
// their newest published versions, besides the lockfile's: pino (and the
// newest sonic-boom pino accepts), Fastify, Express 4 and 5, BullMQ 5 and 6,
// the @opentelemetry/* packages stacklight depends on (API 1.x, SDK 2.x).
// The fast paths that read private internals (src/internals/) are guarded
// by tested version ranges; this is how a new release is tested before a
// service installs it.
//
// Works in a throw-away copy of the repository (tracked and new files, no
// node_modules, no .git): `npm ci`, then `npm install --no-save` of the
// newest versions. The repository's lockfile and node_modules are never
// touched. Prints the versions it ran against; exits non-zero when a test
// fails. Usage: node scripts/newest-peers.mjs [vitest path filters...]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');

/**
 * What is installed: `[name as installed, spec]`. Express 4 and BullMQ 5 are
 * the repository's npm aliases (`express4`, `bullmq5`), so both majors of
 * each run in one install.
 */
const PEERS = [
  ['pino', 'pino@latest'],
  ['fastify', 'fastify@latest'],
  ['express', 'express@5'],
  ['express4', 'express4@npm:express@4'],
  ['bullmq', 'bullmq@6'],
  ['bullmq5', 'bullmq5@npm:bullmq@5'],
  ['@opentelemetry/core', '@opentelemetry/core@2'],
  ['@opentelemetry/resources', '@opentelemetry/resources@2'],
  ['@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-trace-base@2'],
  ['@opentelemetry/sdk-trace-node', '@opentelemetry/sdk-trace-node@2'],
  ['@opentelemetry/context-async-hooks', '@opentelemetry/context-async-hooks@2'],
];

/**
 * Packages that come with one above, at the newest version its range
 * accepts (what a service installing it gets): `[name, of, field]`.
 * sonic-boom is pino's destination; the OpenTelemetry API is a peer of the
 * SDK, whose range can trail the newest API release.
 */
const FOLLOWERS = [
  ['sonic-boom', 'pino@latest', 'dependencies'],
  ['@opentelemetry/api', '@opentelemetry/sdk-trace-base@2', 'peerDependencies'],
];

/**
 * The test folders that run through those packages (logging, the HTTP and
 * job adapters, tracing, init, the guards). The docs, demo, CLI and lint
 * tests do not depend on them and need a build; they stay in the main run.
 */
const TESTS = [
  'test/internals',
  'test/logging',
  'test/middleware',
  'test/jobs',
  'test/tracing',
  'test/init',
  'test/events',
  'test/faults',
];

/** The `field` of the newest version of `spec` (`npm view`: one value or, for a range, one per version). */
function newestField(spec, field) {
  const out = JSON.parse(
    execFileSync('npm', ['view', spec, field, '--json'], { cwd: repo, encoding: 'utf8' }),
  );
  return Array.isArray(out) ? out[out.length - 1] : out;
}

const npm = (cwd, args) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund'], {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
const versionIn = (dir, name) =>
  JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')).version;
const seconds = (since) => `${Math.round((Date.now() - since) / 1000)} s`;

const started = Date.now();
const lockBefore = readFileSync(join(repo, 'package-lock.json'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'stacklight-newest-peers-'));
let status;
try {
  // The working tree's tracked and new files (not ignored ones), through tar.
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      cwd: repo,
    },
  );
  const existing = files
    .toString('utf8')
    .split('\0')
    .filter((f) => f !== '' && existsSync(join(repo, f)));
  const archive = execFileSync('tar', ['-cf', '-', '--null', '-T', '-'], {
    cwd: repo,
    input: existing.join('\0'),
    maxBuffer: 1 << 30,
  });
  execFileSync('tar', ['-xf', '-'], { cwd: dir, input: archive });

  console.log(`copy in ${dir}; npm ci`);
  npm(dir, ['ci', '--prefer-offline']);
  const names = [...PEERS, ...FOLLOWERS].map(([name]) => name);
  const locked = Object.fromEntries(names.map((name) => [name, versionIn(dir, name)]));

  // One install: the followers' ranges are read first, so npm resolves once.
  const follow = FOLLOWERS.map(([name, of, field]) => {
    const range = newestField(of, field)[name];
    return { name, of, range, spec: `${name}@${range}` };
  });
  npm(dir, [
    'install',
    '--no-save',
    '--prefer-online',
    ...PEERS.map(([, spec]) => spec),
    ...follow.map((f) => f.spec),
  ]);

  const rows = names.map((name) => {
    const newest = versionIn(dir, name);
    return `  ${name.padEnd(36)} ${locked[name].padEnd(10)} → ${newest}`;
  });
  console.log(`\nnewest peers (lockfile → tested), installed in ${seconds(started)}:`);
  console.log(rows.join('\n'));
  for (const f of follow) console.log(`  (${f.name}: the newest of ${f.of}'s range ${f.range})`);
  console.log('');

  const filters = process.argv.slice(2);
  const run = spawnSync(
    process.execPath,
    ['node_modules/vitest/vitest.mjs', 'run', ...(filters.length > 0 ? filters : TESTS)],
    { cwd: dir, stdio: 'inherit', env: { ...process.env, CI: 'true' } },
  );
  status = run.status ?? 1;
  console.log(
    `\nnewest peers: tests ${status === 0 ? 'passed' : 'FAILED'} (total ${seconds(started)})`,
  );
  console.log(rows.join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (readFileSync(join(repo, 'package-lock.json'), 'utf8') !== lockBefore) {
  console.error('newest peers: the repository lockfile changed; it must not');
  status = 1;
}
process.exit(status);
