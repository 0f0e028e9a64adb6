#!/usr/bin/env node
// Installs the packed tarball into a throw-away consumer project and imports
// every subpath listed in package.json "exports" from an .mjs file, a .cjs
// file, and a .ts file type-checked with moduleResolution node16 and bundler.
// Usage: node scripts/smoke-consumer.mjs path/to/stacklight-x.y.z.tgz
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const tarball = resolve(process.argv[2] ?? '');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const subpaths = Object.keys(pkg.exports)
  .filter((k) => k !== './package.json' && !k.endsWith('.json'))
  .map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.slice(2)}`));
const peers = Object.keys(pkg.peerDependencies ?? {});
const devVersion = (name) => pkg.devDependencies[name];

const dir = mkdtempSync(join(tmpdir(), 'stacklight-consumer-'));
const run = (cmd, args) => execFileSync(cmd, args, { cwd: dir, stdio: 'inherit' });
try {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, version: '0.0.0' }),
  );
  run('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    tarball,
    ...peers.map((p) => `${p}@${devVersion(p)}`),
    `typescript@${devVersion('typescript')}`,
    `@types/node@${devVersion('@types/node')}`,
  ]);

  const esm = subpaths
    .map(
      (s, i) =>
        `import * as m${i} from '${s}';\nif (Object.keys(m${i}).length === 0) throw new Error('${s}: no exports');`,
    )
    .join('\n');
  writeFileSync(join(dir, 'smoke.mjs'), `${esm}\nconsole.log('esm ok: ${subpaths.join(', ')}');\n`);
  const cjs = subpaths
    .map(
      (s) => `if (Object.keys(require('${s}')).length === 0) throw new Error('${s}: no exports');`,
    )
    .join('\n');
  writeFileSync(join(dir, 'smoke.cjs'), `${cjs}\nconsole.log('cjs ok: ${subpaths.join(', ')}');\n`);
  writeFileSync(
    join(dir, 'schema.cjs'),
    `const s = require('${pkg.name}/log-schema.json'); if (s.type !== 'object' || !s.properties.msg) throw new Error('log-schema.json is not the log schema'); console.log('log-schema.json ok');\n`,
  );
  run('node', ['schema.cjs']);
  run('node', ['smoke.mjs']);
  run('node', ['smoke.cjs']);

  // A typed use of the root entry: a wrong label name must not compile.
  const ts = [
    ...subpaths.map((s, i) => `import * as t${i} from '${s}';\nvoid t${i};`),
    `import { init, type Telemetry } from '${pkg.name}';`,
    `const telemetry: Telemetry = init({ service: 'consumer' });`,
    `telemetry.metrics.httpRequestsTotal.inc({ route: '/x', method: 'GET', code: 200 });`,
    `// @ts-expect-error wrong label name`,
    `telemetry.metrics.httpRequestsTotal.inc({ rout: '/x', method: 'GET', code: 200 });`,
    `void telemetry.shutdown();`,
  ].join('\n');
  writeFileSync(join(dir, 'smoke.ts'), `${ts}\n`);
  for (const [module, resolution] of [
    ['node16', 'node16'],
    ['esnext', 'bundler'],
  ]) {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module,
          moduleResolution: resolution,
          target: 'es2022',
          types: ['node'],
          skipLibCheck: false,
        },
        files: ['smoke.ts'],
      }),
    );
    run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']);
    console.log(`ts ok (moduleResolution ${resolution})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
