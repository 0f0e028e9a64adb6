/**
 * Collectors that fail in the ways a real one does, for shutdown and
 * fault-matrix tests: `hang` accepts and reads the request and never
 * answers; `stall-body` answers 200 with its headers and never sends the
 * body; `slow-5xx` answers 503 after `delayMs`; `retry-after` answers 429
 * with `Retry-After: 1` and then 200; `throttle` answers 429 with
 * `Retry-After: 1` every time; `ok` answers 200 at once.
 * Counts requests and open connections so a test can see sockets freed.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type CollectorMode = 'ok' | 'hang' | 'stall-body' | 'slow-5xx' | 'retry-after' | 'throttle';

export interface FaultyCollector {
  readonly url: string;
  mode: CollectorMode;
  /** Requests received so far. */
  readonly requests: number;
  /** Bodies received (raw bytes, as sent: gzip stays gzip). */
  readonly bodies: Array<{ headers: IncomingMessage['headers']; body: Buffer }>;
  /** Connections open now. */
  readonly openConnections: number;
  /** Resolves once `n` requests have arrived. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface CollectorOptions {
  mode?: CollectorMode;
  delayMs?: number;
  tls?: {
    key: string | Buffer;
    cert: string | Buffer;
    ca?: string | Buffer;
    requestCert?: boolean;
  };
}

export async function startFaultyCollector(
  options: CollectorOptions = {},
): Promise<FaultyCollector> {
  let mode: CollectorMode = options.mode ?? 'ok';
  let requests = 0;
  const bodies: FaultyCollector['bodies'] = [];
  const sockets = new Set<Socket>();
  const waiters: Array<() => void> = [];
  let retryAfterSent = false;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests += 1;
      bodies.push({ headers: req.headers, body: Buffer.concat(chunks) });
      for (const w of waiters.splice(0)) w();
      switch (mode) {
        case 'ok':
          res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
          return;
        case 'hang':
          return;
        case 'stall-body':
          res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '10' });
          res.flushHeaders();
          return;
        case 'slow-5xx':
          setTimeout(() => res.writeHead(503).end('overloaded'), options.delayMs ?? 200).unref();
          return;
        case 'throttle':
          res.writeHead(429, { 'retry-after': '1' }).end('slow down');
          return;
        case 'retry-after':
          if (!retryAfterSent) {
            retryAfterSent = true;
            res.writeHead(429, { 'retry-after': '1' }).end('slow down');
          } else res.writeHead(200).end();
          return;
      }
    });
  };
  const server: Server = options.tls
    ? (createHttpsServer(
        {
          key: options.tls.key,
          cert: options.tls.cert,
          ca: options.tls.ca,
          requestCert: options.tls.requestCert ?? false,
        },
        handler,
      ) as unknown as Server)
    : createHttpServer(handler);
  server.on(options.tls ? 'secureConnection' : 'connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}/v1/traces`,
    get mode() {
      return mode;
    },
    set mode(m) {
      mode = m;
    },
    get requests() {
      return requests;
    },
    bodies,
    get openConnections() {
      return sockets.size;
    },
    waitForRequests(n, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`collector: ${requests} of ${n} requests after ${timeoutMs} ms`)),
          timeoutMs,
        );
        const check = (): void => {
          if (requests >= n) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
