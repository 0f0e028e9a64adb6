// No optional peer installed: the bare install stays small, stacklight works
// from ESM and CJS, and only a configured Sentry DSN is an error (naming
// the package to install).
import { check, installSize, mustRun, project } from './lib.mjs';

const MAX_MB = 30;

export default function bare(tarball) {
  const p = project('bare', {
    'app.mjs': `
import { init } from 'stacklight';
const t = init({ service: 'bare', tracing: { exporter: 'none' } });
t.logger.info({ route: '/x' }, 'up');
const text = await t.metricsText();
if (!text.includes('service="bare"')) throw new Error('no series of this service');
t.captureException(new Error('no Sentry configured: a no-op'));
await t.shutdown();
`,
    'app.cjs': `
const { init } = require('stacklight');
const t = init({ service: 'bare-cjs', tracing: { exporter: 'none' } });
t.logger.info('up');
t.shutdown().then(() => undefined);
`,
    'dsn.mjs': `
import { init } from 'stacklight';
try {
  init({ service: 'bare', tracing: { exporter: 'none' } });
  console.log('NO ERROR');
} catch (e) {
  console.log(e.message);
}
`,
  });
  try {
    p.install(tarball);
    const { packages, bytes } = installSize(p.dir);
    const mb = bytes / 1024 / 1024;
    console.log(`  bare install: ${packages.length} packages, ${mb.toFixed(1)} MB`);
    console.log(`  ${packages.sort().join(', ')}`);
    check(mb < MAX_MB, `bare install is under ${MAX_MB} MB (${mb.toFixed(1)} MB)`);
    check(!packages.some((n) => n.startsWith('@sentry/')), 'no @sentry/* package is installed');
    mustRun(p, 'app.mjs');
    mustRun(p, 'app.cjs');
    const plain = mustRun(p, 'dsn.mjs');
    check(plain.stdout.includes('NO ERROR'), 'init() works without @sentry/node and without a DSN');
    const withDsn = mustRun(p, 'dsn.mjs', { SENTRY_DSN: 'https://publicKey@127.0.0.1:9/1' });
    check(
      withDsn.stdout.includes('"@sentry/node" is not installed') &&
        withDsn.stdout.includes('npm install @sentry/node') &&
        !withDsn.stdout.includes('publicKey'),
      'with SENTRY_DSN set, init() names the missing package and how to install it (not the DSN)',
      withDsn.stdout,
    );
  } finally {
    p.remove();
  }
}
