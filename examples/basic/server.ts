/**
 * A small service instrumented with stacklight, on bare node:http.
 * Run: npm run example   then   curl localhost:3000/users/42   and   curl localhost:3000/metrics
 *
 * It records the request metrics, one log line and one server span by hand;
 * the Fastify and Express middleware do the same in one registration line.
 */
import { createServer } from 'node:http';
import { SpanKind, type Span } from '@opentelemetry/api';
import { extractContext, httpServerSpanName, init, runWithContext, withSpan } from 'stacklight';
import { context } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';

const telemetry = init({
  service: 'example',
  env: 'development',
  // No collector in the example: print spans instead (OTEL_TRACES_EXPORTER=otlp to export).
  tracing: { exporter: process.env.OTEL_TRACES_EXPORTER ? undefined : 'console' },
  shutdown: { handleSignals: true },
});
const { logger, metrics } = telemetry;

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?', 1)[0]!;
  if (path === '/metrics') return telemetry.metricsHandler(req, res);

  const route = /^\/users\/[^/]+$/.test(path) ? '/users/:id' : path === '/' ? '/' : 'unmatched';
  const method = req.method ?? 'GET';
  const started = process.hrtime.bigint();
  const requestId = randomUUID();
  const parent = extractContext(req.headers, 'http');

  runWithContext({ requestId, route, method }, () =>
    context.with(parent, () =>
      withSpan(
        httpServerSpanName(method, route),
        { 'http.route': route },
        (span: Span) => {
          span.setAttribute('http.request.method', method);
          const status = route === 'unmatched' ? 404 : 200;
          res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': requestId });
          res.end(
            JSON.stringify(
              route === '/users/:id' ? { id: path.split('/')[2] } : { ok: status === 200 },
            ),
          );
          span.setAttribute('http.response.status_code', status);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const labels = { route, method, code: status };
          metrics.httpRequestsTotal.inc(labels);
          metrics.httpRequestDurationSeconds.observe(labels, seconds);
          logger.info({ status, latency_ms: Math.round(seconds * 1e6) / 1e3 }, 'request finished');
        },
        { kind: SpanKind.SERVER },
      ),
    ),
  );
});

server.listen(Number(process.env.PORT ?? 3000), () => {
  logger.info({ route: '/' }, `example listening on http://localhost:${process.env.PORT ?? 3000}`);
});
telemetry.onShutdown(
  'drain',
  'http-server',
  () => new Promise<void>((resolve) => server.close(() => resolve())),
);
