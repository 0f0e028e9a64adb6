import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpLifecycle } from './lifecycle.js';

/** Body of the liveness endpoint. */
export const HEALTH_BODY = '{"status":"ok"}';

const JSON_TYPE = 'application/json; charset=utf-8';

/** Writes a JSON answer on a raw response (Express and node:http). */
export function writeJson(
  res: ServerResponse,
  statusCode: number,
  body: string,
  head = false,
): void {
  res.statusCode = statusCode;
  res.setHeader('content-type', JSON_TYPE);
  res.setHeader('cache-control', 'no-store');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(head ? undefined : body);
}

/** 503 for a request that arrives once the drain refuses new work. */
export function writeDraining(res: ServerResponse, body: string): void {
  res.setHeader('connection', 'close');
  writeJson(res, 503, body);
}

/**
 * Serves one of the built-in endpoints on a raw request if `path` is one of
 * them (GET or HEAD); returns false when it is not. Used by the Express
 * middleware; the Fastify plugin registers routes instead.
 */
export function serveEndpoint(
  lifecycle: HttpLifecycle,
  metricsHandler: (req: IncomingMessage, res: ServerResponse) => void,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const method = req.method;
  if (method !== 'GET' && method !== 'HEAD') return false;
  const o = lifecycle.options;
  if (path === o.healthPath) {
    writeJson(res, 200, HEALTH_BODY, method === 'HEAD');
    return true;
  }
  if (path === o.readinessPath) {
    void lifecycle.readiness.run().then((answer) => {
      if (!res.writableEnded && !res.destroyed)
        writeJson(res, answer.statusCode, JSON.stringify(answer.body), method === 'HEAD');
    });
    return true;
  }
  if (path === o.metricsPath) {
    metricsHandler(req, res);
    return true;
  }
  return false;
}

/** Path of a request URL without its query string. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
