// The service installs the newest @opentelemetry/api itself. Its API must
// see stacklight's spans and inject their traceparent, from ESM and CJS.
import { check, mustRun, project } from './lib.mjs';

const body = (api) => `
const t = init({ service: 'otel-latest', tracing: { exporter: 'none' } });
t.tracer.startActiveSpan('work', (span) => {
  const active = ${api}.trace.getActiveSpan();
  const carrier = {};
  ${api}.propagation.inject(${api}.context.active(), carrier);
  const want = span.spanContext();
  if (active?.spanContext().spanId !== want.spanId) throw new Error('the app API does not see the active span');
  if (!String(carrier.traceparent).startsWith('00-' + want.traceId + '-')) throw new Error('no traceparent injected: ' + JSON.stringify(carrier));
  console.log('traceparent', carrier.traceparent);
  span.end();
});
`;

export default function otelApiLatest(tarball) {
  const p = project('otel-api-latest', {
    'app.mjs': `import * as api from '@opentelemetry/api';\nimport { init } from 'stacklight';\n${body('api')}\nawait t.shutdown();\n`,
    'app.cjs': `const api = require('@opentelemetry/api');\nconst { init } = require('stacklight');\n${body('api')}\nvoid t.shutdown();\n`,
    'versions.cjs': `
const { existsSync, readFileSync } = require('node:fs');
const version = (p) => JSON.parse(readFileSync(p, 'utf8')).version;
const nested = 'node_modules/stacklight/node_modules/@opentelemetry/api/package.json';
const app = version('node_modules/@opentelemetry/api/package.json');
console.log('app API ' + app + ', stacklight ' + (existsSync(nested) ? 'has its own nested ' + version(nested) : 'shares it'));
`,
  });
  try {
    p.install(tarball, '@opentelemetry/api@latest');
    console.log(`  ${mustRun(p, 'versions.cjs').stdout.trim()}`);
    const esm = mustRun(p, 'app.mjs');
    check(
      esm.stdout.includes('traceparent 00-'),
      "ESM: the app's API sees stacklight's span and injects it",
    );
    const cjs = mustRun(p, 'app.cjs');
    check(
      cjs.stdout.includes('traceparent 00-'),
      "CJS: the app's API sees stacklight's span and injects it",
    );
  } finally {
    p.remove();
  }
}
