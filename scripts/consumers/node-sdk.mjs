// A service already running the OpenTelemetry Node SDK with the
// auto-instrumentations (started first, as its docs say). stacklight joins
// it: one SERVER span per request (the HTTP instrumentation's, named by
// route), one service.name, no duplicate-registration noise, and log lines
// that stay valid against the published schema although instrumentation-pino
// injects trace fields.
import { check, mustRun, project } from './lib.mjs';

export default function nodeSdk(tarball) {
  const p = project(
    'node-sdk',
    {
      'instrument.cjs': `
const { NodeSDK, tracing } = require('@opentelemetry/sdk-node');
const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node');
const exporter = new tracing.InMemorySpanExporter();
const sdk = new NodeSDK({
  serviceName: 'shop',
  spanProcessors: [new tracing.SimpleSpanProcessor(exporter)],
  instrumentations: [getNodeAutoInstrumentations({ '@opentelemetry/instrumentation-fs': { enabled: false } })],
});
sdk.start();
module.exports = { exporter, sdk };
`,
      'app.cjs': `
const { exporter, sdk } = require('./instrument.cjs');
const http = require('node:http');
const { Writable } = require('node:stream');
const Ajv2020 = require('ajv/dist/2020').default;
const express = require('express');
const { init } = require('stacklight');
const { stacklightMiddleware, stacklightErrorHandler } = require('stacklight/express');

const text = [];
const destination = new Writable({ write(chunk, _e, cb) { text.push(chunk.toString()); cb(); } });
const telemetry = init({ service: 'shop', tracing: { exporter: 'none' }, logging: { destination } });
const app = express();
app.use(stacklightMiddleware(telemetry));
app.get('/items/:id', (req, res) => {
  telemetry.logger.info({ route: '/items/:id' }, 'item read');
  res.json({ id: req.params.id });
});
app.use(stacklightErrorHandler());
const server = app.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  for (const id of [1, 2, 3]) {
    await new Promise((resolve, reject) =>
      http.get('http://127.0.0.1:' + port + '/items/' + id, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));
  }
  server.close();
  await telemetry.shutdown();
  await new Promise((r) => setTimeout(r, 100));
  const spans = exporter.getFinishedSpans();
  const servers = spans.filter((s) => s.kind === 1 /* SERVER */);
  const names = new Set(spans.map((s) => s.resource.attributes['service.name']));
  const lines = text.join('').split('\\n').filter((l) => l !== '').map((l) => JSON.parse(l));
  const validate = new Ajv2020({ strict: false }).compile(require('stacklight/log-schema.json'));
  const invalid = lines.filter((l) => !validate(l));
  const traces = new Set(servers.map((s) => s.spanContext().traceId));
  const correlated = lines.filter((l) => l.msg === 'item read' && traces.has(l.traceId)).length;
  const result = {
    serverSpans: servers.length,
    routes: servers.map((s) => s.attributes['http.route']),
    serviceNames: [...names],
    lines: lines.length,
    invalid: invalid.length,
    traceFieldsLeft: lines.filter((l) => 'trace_id' in l || 'span_id' in l).length,
    correlated,
    // The mode init() chose; \`config\` is internal (not in the published types).
    mode: telemetry.config.tracing.provider,
  };
  console.log(JSON.stringify(result));
  if (invalid.length > 0) console.log(JSON.stringify(invalid[0]), JSON.stringify(validate.errors));
  await sdk.shutdown();
});
`,
    },
    'commonjs',
  );
  try {
    p.install(
      tarball,
      // The newest lines that run on Node 20 (sdk-node 0.300 and
      // auto-instrumentations 0.82 need Node 22).
      '@opentelemetry/sdk-node@^0.223.0',
      '@opentelemetry/auto-instrumentations-node@^0.81.0',
      'express@^5',
      'ajv@^8',
    );
    const r = mustRun(p, 'app.cjs', {
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    });
    const line = r.stdout.split('\n').find((l) => l.startsWith('{"serverSpans"'));
    check(line !== undefined, 'the app reports what it saw', r.stdout + r.stderr);
    const seen = JSON.parse(line);
    console.log(`  ${line}`);
    check(seen.mode === 'external', "stacklight detected the SDK's provider (external mode)");
    check(seen.serverSpans === 3, 'one SERVER span per request (3 requests)', line);
    check(
      seen.routes.every((x) => x === '/items/:id'),
      'each SERVER span carries the route',
      line,
    );
    check(
      seen.serviceNames.length === 1 && seen.serviceNames[0] === 'shop',
      'one service.name',
      line,
    );
    check(
      seen.lines > 0 && seen.invalid === 0 && seen.traceFieldsLeft === 0,
      'every log line is schema-valid',
      r.stdout,
    );
    check(seen.correlated === 3, 'log lines carry the trace id of their request', line);
    check(
      !/duplicate registration/i.test(r.stdout + r.stderr),
      'no duplicate-registration noise',
      r.stderr,
    );
  } finally {
    p.remove();
  }
}
