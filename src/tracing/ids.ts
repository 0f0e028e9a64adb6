import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { markRandomTraceId } from './random-traces.js';

/** Bytes of randomness drawn at a time: 256 span ids or 128 trace ids. */
const POOL_BYTES = 2048;

/**
 * Trace and span ids cut from a pool of cryptographic randomness that is
 * hex-encoded once per 2 KiB, instead of per id. OpenTelemetry's default
 * generator fills a buffer from `Math.random()` and hex-encodes it for every
 * id, which showed up at ~2 µs per span under load in the HTTP benchmark's
 * profile; here an id is a substring of the pool. An all-zero id (invalid in
 * W3C Trace Context) is never returned.
 */
export class PooledIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(POOL_BYTES);
  private hex = '';
  private pos = 0;

  private take(chars: number): string {
    for (;;) {
      if (this.pos + chars > this.hex.length) {
        randomFillSync(this.bytes);
        this.hex = this.bytes.toString('hex');
        this.pos = 0;
      }
      const id = this.hex.substring(this.pos, this.pos + chars);
      this.pos += chars;
      if (!isAllZero(id)) return id;
    }
  }

  /** A random trace id, remembered as such for the `random` trace flag (random-traces.ts). */
  generateTraceId(): string {
    const id = this.take(32);
    markRandomTraceId(id);
    return id;
  }

  generateSpanId(): string {
    return this.take(16);
  }
}

function isAllZero(id: string): boolean {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) !== 48) return false;
  return true;
}

/** The process's generator: stacklight's tracer provider and the HTTP middleware share it. */
export const ids: IdGenerator = new PooledIdGenerator();
