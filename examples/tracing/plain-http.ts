/**
 * A plain `node:http` server without the Fastify or Express adapters (a
 * custom transport): the server span is started by hand, continuing the
 * caller's `traceparent` (docs/tracing.md § 1).
 *
 * The code samples of docs/tracing.md are the `#region`s of this file.
 *
 * Run: node --import tsx examples/tracing/plain-http.ts   then   curl localhost:3003/trades/t_42
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { init } from 'stacklight';
// #region plain-http
import { createServer } from 'node:http';
import { SpanKind } from '@opentelemetry/api';
import { extractContext, httpServerSpanName, withSpan } from 'stacklight';
// #endregion

const telemetry = init({ service: 'trades', shutdown: { handleSignals: true } });

// #region plain-http
const server = createServer((req, res) =>
  withSpan(httpServerSpanName(req.method, '/trades/:id'), {}, () => handle(req, res), {
    kind: SpanKind.SERVER,
    context: extractContext(req.headers, 'http'),
  }),
);
// #endregion

function handle(req: IncomingMessage, res: ServerResponse): void {
  telemetry.logger.info('trade requested'); // carries the span's traceId
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ id: req.url?.split('/')[2] }));
}

server.listen(Number(process.env.PORT ?? 3003));
telemetry.onShutdown(
  'close',
  'http-server',
  () => new Promise<void>((r) => server.close(() => r())),
);
