import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { contentTypeOf, negotiateFormat, type ExpositionFormat } from './exposition.js';

/** Renders the exposition for a format. */
export type MetricsRenderer = (format: ExpositionFormat) => Promise<string>;

/** Options of {@link createMetricsHandler}. */
export interface MetricsHandlerOptions {
  /** Bearer token the request must carry (`Authorization: Bearer <token>`). */
  token?: string | undefined;
  /** Called when rendering fails; the response is a 500 without details. */
  onError?: (err: unknown) => void;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice(7).trim());
  const want = Buffer.from(token);
  // Constant-time compare so the token cannot be guessed byte by byte.
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * A Node `http` request handler that answers with the metrics exposition:
 * OpenMetrics when the `Accept` header asks for it, Prometheus text otherwise.
 * With `token` set, a request without the right bearer token gets 401.
 */
export function createMetricsHandler(render: MetricsRenderer, options: MetricsHandlerOptions = {}) {
  return function stacklightMetricsHandler(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n');
      return;
    }
    if (options.token !== undefined && !tokenMatches(req.headers.authorization, options.token)) {
      res
        .writeHead(401, {
          'www-authenticate': 'Bearer',
          'content-type': 'text/plain; charset=utf-8',
        })
        .end('unauthorized\n');
      return;
    }
    const format = negotiateFormat(req.headers.accept);
    render(format).then(
      (body) => {
        res.writeHead(200, { 'content-type': contentTypeOf(format), 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        options.onError?.(err);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('metrics unavailable\n');
      },
    );
  };
}

/**
 * Serves the metrics handler on its own port (workers and other services
 * without an HTTP server). Every other path answers 404.
 */
export function startMetricsServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: {
    port: number;
    host: string;
    path: string;
    /** A server error after it listens (e.g. `EMFILE` on accept): absorbed, never thrown. */
    onError?: (err: Error) => void;
  },
): Promise<Server> {
  const server = createServer(function stacklightMetricsServer(req, res) {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === options.path) handler(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  });
  // Scrapers keep connections alive; do not let them hold the process open.
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      // An 'error' without a listener would be thrown in the host service.
      server.on('error', (err) => options.onError?.(err));
      server.unref();
      resolve(server);
    });
  });
}
