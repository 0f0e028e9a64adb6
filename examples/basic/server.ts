/**
 * A small service instrumented with stacklight: Fastify plus one plugin
 * registration.
 * Run: npm run example   then   curl localhost:3000/users/42   and   curl localhost:3000/metrics
 *
 * Every request gets `http_requests_total` / `http_request_duration_seconds`
 * with its route template, one JSON log line and a server span (printed by
 * the console exporter here); /healthz and /readyz answer the probes, and
 * SIGTERM drains in-flight requests before the last lines and spans flush.
 */
import Fastify from 'fastify';
import { init } from 'stacklight';
import { stacklightPlugin } from 'stacklight/fastify';

const telemetry = init({
  service: 'example',
  env: 'development',
  // No collector in the example: print spans instead (OTEL_TRACES_EXPORTER=otlp to export).
  tracing: { exporter: process.env.OTEL_TRACES_EXPORTER ? undefined : 'console' },
  shutdown: { handleSignals: true },
});

// Fastify's own logger stays off (the default): stacklight writes the request lines.
const app = Fastify();
await app.register(stacklightPlugin, {
  telemetry,
  metricsEndpoint: true,
  healthEndpoint: true,
  readinessEndpoint: true,
  readinessChecks: { database: () => true },
  userId: (request) => request.headers['x-user-id'] as string | undefined,
});

app.get('/users/:id', async (request) => {
  const { id } = request.params as { id: string };
  telemetry.logger.info('loading user');
  return { id };
});
app.get('/', async () => ({ ok: true }));

const port = Number(process.env.PORT ?? 3000);
await app.listen({ port, host: '0.0.0.0' });
telemetry.logger.info(`example listening on http://localhost:${port}`);
// Stop accepting connections once the drain is over (stacklight waits for in-flight requests first).
telemetry.onShutdown('close', 'http-server', () => app.close());
