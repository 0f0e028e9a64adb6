/**
 * OTLP/HTTP protobuf export of spans encoded when they ended (see
 * `encode.ts`): POST `application/x-protobuf` to the traces endpoint, over a
 * keep-alive connection, with the configured headers.
 *
 * Retries follow the OTLP/HTTP specification: 429, 502, 503 and 504 are
 * retried with exponential backoff and jitter (honouring `Retry-After`),
 * within the export timeout; any other answer, a refused connection or a
 * reset is a failed export. The whole export, retries included, is bounded by
 * `timeoutMs`.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SDK_VERSION } from '../../version.js';
import type { BatchExporter, BatchResult } from '../batch-processor.js';
import { SpanEncoder, type EncodedSpan } from './encode.js';

export interface OtlpHttpExporterOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

const RETRYABLE = new Set([429, 502, 503, 504]);
const MAX_ATTEMPTS = 5;
const INITIAL_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 5000;

/** Seconds or an HTTP date, in ms from now; `undefined` when absent or unusable. */
function retryAfterMs(res: IncomingMessage): number | undefined {
  const raw = res.headers['retry-after'];
  if (typeof raw !== 'string' || raw === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

export class OtlpHttpExporter implements BatchExporter<EncodedSpan> {
  private readonly encoder = new SpanEncoder();
  private readonly url: URL;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(options: OtlpHttpExporterOptions) {
    this.url = new URL(options.url);
    const https = this.url.protocol === 'https:';
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, maxSockets: 2 })
      : new HttpAgent({ keepAlive: true, maxSockets: 2 });
    this.send = https ? httpsRequest : httpRequest;
    this.headers = {
      ...options.headers,
      'content-type': 'application/x-protobuf',
      'user-agent': `stacklight/${SDK_VERSION}`,
    };
    this.timeoutMs = options.timeoutMs;
  }

  prepare(span: ReadableSpan): EncodedSpan {
    return this.encoder.encode(span);
  }

  export(batch: EncodedSpan[], done: (result: BatchResult) => void): void {
    if (this.closed) {
      done('failed');
      return;
    }
    let body: Buffer;
    try {
      body = this.encoder.request(batch);
    } catch {
      done('failed');
      return;
    }
    const deadline = Date.now() + this.timeoutMs;
    let settled = false;
    const finish = (result: BatchResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(result);
    };
    let current: ReturnType<typeof httpRequest> | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      current?.destroy();
      finish('timeout');
    }, this.timeoutMs);
    timer.unref();

    const attempt = (n: number): void => {
      let req: ReturnType<typeof httpRequest>;
      try {
        req = this.send(this.url, {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'content-length': String(body.length) },
        });
      } catch {
        finish('failed');
        return;
      }
      current = req;
      // After a timeout, `finish` has already run: this is a no-op then.
      req.on('error', () => finish('failed'));
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        // Drain the (small) answer so the connection can be reused.
        res.resume();
        res.on('error', () => undefined);
        if (status >= 200 && status < 300) {
          finish('ok');
          return;
        }
        if (!RETRYABLE.has(status) || n + 1 >= MAX_ATTEMPTS) {
          finish('failed');
          return;
        }
        const backoff = Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** n);
        const wait = retryAfterMs(res) ?? backoff * (0.8 + 0.4 * Math.random());
        if (Date.now() + wait >= deadline) {
          finish('failed');
          return;
        }
        retryTimer = setTimeout(() => attempt(n + 1), wait);
        retryTimer.unref();
      });
      req.end(body);
    };
    attempt(0);
  }

  shutdown(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
    return Promise.resolve();
  }
}
