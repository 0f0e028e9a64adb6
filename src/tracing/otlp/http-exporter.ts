/**
 * OTLP/HTTP protobuf export of spans encoded when they ended (see
 * `encode.ts`): POST `application/x-protobuf` to the traces endpoint, over a
 * keep-alive connection, with the configured headers, optionally gzip
 * compressed and over TLS with a custom CA and a client certificate.
 *
 * Follows the OTLP/HTTP exporter specification:
 * - 429, 502, 503 and 504 are retried with exponential backoff and jitter,
 *   honouring `Retry-After` (seconds or an HTTP date); any other answer, a
 *   refused connection, a reset or a TLS failure fails the export;
 * - an export counts as delivered only once the whole 2xx answer has been
 *   read: a collector that sends its headers and stalls the body fails the
 *   batch when the export timeout ends, and its socket is destroyed (it
 *   could not be reused anyway);
 * - the whole export, retries and body included, is bounded by `timeoutMs`;
 *   a retry is sent only when, after its wait, a tenth of the timeout (at
 *   most 1 s) is left for the answer: one sent closer to the deadline could
 *   only time out, and would load a struggling collector for nothing;
 * - `abort()` (shutdown) destroys every socket at once.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { gzip } from 'node:zlib';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SDK_VERSION } from '../../version.js';
import type { BatchExporter, BatchResult } from '../batch-processor.js';
import { SpanEncoder, type EncodedSpan } from './encode.js';

/** TLS material, as PEM. */
export interface OtlpTls {
  /** CA certificate(s) trusted for the collector (`OTEL_EXPORTER_OTLP_CERTIFICATE`). */
  ca?: string | Buffer;
  /** Client certificate for mTLS (`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`). */
  cert?: string | Buffer;
  /** Client private key for mTLS (`OTEL_EXPORTER_OTLP_CLIENT_KEY`). */
  key?: string | Buffer;
}

export interface OtlpHttpExporterOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** Body compression. @default 'none' */
  compression?: 'gzip' | 'none';
  tls?: OtlpTls;
  /** Called once per failed export with why it failed (no header value, no body). */
  onFailure?(reason: string): void;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;
/** Time kept for a retry's answer: a tenth of the export timeout, at most this. */
const MAX_ANSWER_RESERVE_MS = 1000;
/** Bytes of an answer kept for the failure reason (collectors explain themselves briefly). */
const MAX_BODY = 64 * 1024;

/** Seconds or an HTTP date, in ms from now; `undefined` when absent or unusable. */
export function retryAfterMs(raw: unknown, now = Date.now()): number | undefined {
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** A short, secret-free sentence for a network error. */
export function describeNetworkError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED)';
    case 'ECONNRESET':
      return 'connection reset by the collector (ECONNRESET)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `collector host not found (${code})`;
    case 'ETIMEDOUT':
      return 'connection timed out (ETIMEDOUT)';
  }
  if (code !== undefined && /CERT|SSL|TLS|SELF_SIGNED|VERIFY/.test(code)) {
    return `TLS handshake failed (${code})`;
  }
  return code !== undefined ? `network error (${code})` : 'network error';
}

export class OtlpHttpExporter implements BatchExporter<EncodedSpan> {
  private readonly encoder = new SpanEncoder();
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  /** Time a retry must have left for its answer after its wait (a tenth of the timeout, at most 1 s). */
  private readonly answerReserveMs: number;
  private readonly gzip: boolean;
  private readonly onFailure: (reason: string) => void;
  /** Exports in flight: `abort()` ends each. */
  private readonly inFlight = new Set<() => void>();
  private closed = false;

  constructor(options: OtlpHttpExporterOptions) {
    this.url = new URL(options.url);
    const https = this.url.protocol === 'https:';
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 2, ...options.tls })
      : new HttpAgent({ keepAlive: true, maxSockets: 2 });
    this.send = https ? (httpsRequest as typeof httpRequest) : httpRequest;
    this.gzip = options.compression === 'gzip';
    this.headers = {
      ...options.headers,
      'content-type': 'application/x-protobuf',
      'user-agent': `stacklight/${SDK_VERSION}`,
      ...(this.gzip ? { 'content-encoding': 'gzip' } : {}),
    };
    this.timeoutMs = options.timeoutMs;
    this.answerReserveMs = Math.min(MAX_ANSWER_RESERVE_MS, options.timeoutMs / 10);
    this.onFailure = options.onFailure ?? (() => undefined);
  }

  prepare(span: ReadableSpan): EncodedSpan {
    return this.encoder.encode(span);
  }

  export(batch: EncodedSpan[], done: (result: BatchResult) => void): void {
    if (this.closed) {
      done('failed');
      return;
    }
    let raw: Buffer;
    try {
      raw = this.encoder.request(batch);
    } catch {
      this.onFailure('the batch could not be encoded');
      done('failed');
      return;
    }
    const deadline = Date.now() + this.timeoutMs;
    let settled = false;
    let current: ClientRequest | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    const finish = (result: BatchResult, reason?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      this.inFlight.delete(abort);
      // A request still open (stalled body, hung collector) is destroyed
      // with its socket: it would otherwise hold one of the two sockets.
      if (current !== undefined && !current.destroyed && result !== 'ok') current.destroy();
      if (reason !== undefined) this.onFailure(reason);
      done(result);
    };
    const abort = (): void => finish('failed', 'export aborted at shutdown');
    this.inFlight.add(abort);
    const timer = setTimeout(
      () =>
        finish('timeout', `no complete answer within the export timeout (${this.timeoutMs} ms)`),
      this.timeoutMs,
    );
    timer.unref();

    const attempt = (body: Buffer, n: number): void => {
      if (settled) return;
      let req: ClientRequest;
      try {
        req = this.send(this.url, {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'content-length': String(body.length) },
        });
      } catch (err) {
        finish('failed', describeNetworkError(err));
        return;
      }
      current = req;
      // After a timeout or an abort, `finish` has already run: a no-op then.
      req.on('error', (err) => finish('failed', describeNetworkError(err)));
      req.on('response', (res) => {
        // Read to the end: the socket went back to the agent, nothing to destroy.
        res.once('end', () => {
          if (current === req) current = undefined;
        });
        this.onResponse(res, n, deadline, finish, (wait) => {
          retryTimer = setTimeout(() => attempt(body, n + 1), wait);
          retryTimer.unref();
        });
      });
      req.end(body);
    };

    if (!this.gzip) {
      attempt(raw, 0);
      return;
    }
    gzip(raw, (err, zipped) => {
      if (err !== null) finish('failed', 'the batch could not be compressed');
      else attempt(zipped, 0);
    });
  }

  private onResponse(
    res: IncomingMessage,
    n: number,
    deadline: number,
    finish: (result: BatchResult, reason?: string) => void,
    retry: (waitMs: number) => void,
  ): void {
    const status = res.statusCode ?? 0;
    let kept = 0;
    res.on('data', (chunk: Buffer) => {
      kept += chunk.length;
      if (kept > MAX_BODY) res.destroy();
    });
    res.on('error', () => finish('failed', `the answer (HTTP ${status}) broke off`));
    res.on('aborted', () => finish('failed', `the answer (HTTP ${status}) broke off`));
    // Only a completely read answer frees the socket for the next export.
    res.on('end', () => {
      if (status >= 200 && status < 300) {
        finish('ok');
        return;
      }
      if (!RETRYABLE.has(status)) {
        finish('failed', `the collector answered HTTP ${status}`);
        return;
      }
      if (n + 1 >= MAX_ATTEMPTS) {
        finish('failed', `the collector answered HTTP ${status} to ${MAX_ATTEMPTS} attempts`);
        return;
      }
      const backoff = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** n);
      const after = retryAfterMs(res.headers['retry-after']);
      // Full jitter around the backoff: exporters of many replicas spread out.
      const wait = after ?? backoff * (0.5 + Math.random() * 0.5);
      if (Date.now() + wait + this.answerReserveMs >= deadline) {
        finish(
          'failed',
          after !== undefined
            ? `the collector answered HTTP ${status} with Retry-After ${Math.round(after / 1000)} s, beyond the export timeout`
            : `the collector answered HTTP ${status}; no time left in the export timeout to retry`,
        );
        return;
      }
      retry(wait);
    });
  }

  /** Ends every export in flight now and refuses new ones; destroys every socket. */
  abort(): void {
    this.closed = true;
    for (const end of [...this.inFlight]) end();
    this.agent.destroy();
  }

  shutdown(): Promise<void> {
    this.abort();
    return Promise.resolve();
  }
}
