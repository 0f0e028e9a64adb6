#!/usr/bin/env node
// Installs the packed tarball into separate throw-away consumer projects
// (from the npm registry, in temp directories; the repository's lockfile is
// never touched) and runs what a real service would do with it.
// Usage: node scripts/consumers/run.mjs path/to/stacklight-x.y.z.tgz [scenario...]
import { resolve } from 'node:path';
import bare from './bare.mjs';
import nodeSdk from './node-sdk.mjs';
import otelApiLatest from './otel-api-latest.mjs';
import sentryApp from './sentry-app.mjs';

const SCENARIOS = {
  bare,
  'otel-api-latest': otelApiLatest,
  'sentry-app': sentryApp,
  'node-sdk': nodeSdk,
};

const tarball = resolve(process.argv[2] ?? '');
const only = process.argv.slice(3);
let failed = 0;
for (const [name, scenario] of Object.entries(SCENARIOS)) {
  if (only.length > 0 && !only.includes(name)) continue;
  console.log(`\n--- consumer: ${name}`);
  const started = Date.now();
  try {
    await scenario(tarball);
    console.log(`--- ${name}: passed (${Math.round((Date.now() - started) / 1000)} s)`);
  } catch (err) {
    failed++;
    console.log(`--- ${name}: FAILED\n${err?.stack ?? err}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
