/**
 * Requests the server or the framework answers before any adapter hook runs:
 * - Node's HTTP parser rejects them (`clientError`): headers too large → 431,
 *   a malformed request line or header → 400, a request timeout → 408;
 * - Fastify answers a path with bad percent-encoding (`/users/%zz`) with 400
 *   before its hooks run.
 * They are counted and logged as `route="unmatched"` (no span: nothing of
 * them ran inside a trace). Express sees bad encodings itself (its own 400
 * goes through the middleware), and Node's 414 does not exist: an overlong
 * URL is part of the headers and answered 431.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { reportGuard, type Guard } from '../internals/guard.js';
import { nodeGuard } from '../internals/node.js';
import type { HttpLifecycle } from './lifecycle.js';

/** The status Node answers a parser error with (as its default `clientError` handling does). */
export function statusOfClientError(err: NodeJS.ErrnoException): number | undefined {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined; // the client went away: no request to count
    default:
      return 400;
  }
}

const watched = new WeakSet<Server>();

/**
 * Counts the requests `server` rejects while parsing. When nobody else
 * listens for `clientError` (Express, a plain `http` server), stacklight
 * answers as Node would have (listening turns Node's own answer off);
 * when the framework listens (Fastify), it only observes.
 */
export function watchClientErrors(
  server: Server,
  lifecycle: HttpLifecycle,
  node: Guard = nodeGuard(),
): void {
  if (watched.has(server)) return;
  watched.add(server);
  const answer = server.listenerCount('clientError') === 0;
  // Answering reads a private socket field: only on a Node.js CI runs.
  if (answer) reportGuard(node, lifecycle.errors.warn);
  server.on(
    'clientError',
    function stacklightClientError(err: NodeJS.ErrnoException, socket: Duplex) {
      const status = statusOfClientError(err);
      if (status !== undefined)
        lifecycle.recordRejected(undefined, status, err.code ?? 'client_error');
      if (!answer) return;
      // Node's default handling (lib/_http_server.js), reproduced.
      if (
        status !== undefined &&
        node.fast &&
        socket.writable &&
        !(socket as { _httpMessage?: unknown })._httpMessage
      ) {
        const reason =
          status === 431
            ? 'Request Header Fields Too Large'
            : status === 408
              ? 'Request Timeout'
              : status === 413
                ? 'Payload Too Large'
                : 'Bad Request';
        socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\n\r\n`);
        return;
      }
      socket.destroy(err);
    },
  );
}

/**
 * Fastify: a request answered synchronously by Fastify's router before the
 * `onRequest` hook (bad URL encoding) ended without a record of ours. Runs
 * after Fastify's own `request` listener; one property read per request.
 */
export function watchUnhookedResponses(server: Server, lifecycle: HttpLifecycle): void {
  server.on('request', function stacklightUnhooked(req: IncomingMessage, res: ServerResponse) {
    if (!res.writableEnded || lifecycle.records.get(res) !== undefined) return;
    // A route that opted out of stacklight may also have answered synchronously:
    // only a path Fastify could not decode is a rejection.
    if (!hasBadEncoding(req.url)) return;
    lifecycle.recordRejected(req.method, res.statusCode, 'bad URL encoding');
  });
}

/** Whether the path part of `url` has a percent-encoding that does not decode. */
export function hasBadEncoding(url: string | undefined): boolean {
  if (url === undefined) return false;
  const q = url.indexOf('?');
  try {
    decodeURIComponent(q === -1 ? url : url.slice(0, q));
    return false;
  } catch {
    return true;
  }
}
