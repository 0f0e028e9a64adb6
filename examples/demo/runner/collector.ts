/**
 * The demo's own OTLP/HTTP traces collector: a node:http server on loopback
 * that decodes `ExportTraceServiceRequest` protobuf bodies (only the fields
 * the waterfall needs) and keeps the spans in memory, bounded. When an OTLP
 * endpoint is configured (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT), every body is also forwarded there as is.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** A received span, ids in lowercase hex, times in ms since the epoch. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  startMs: number;
  endMs: number;
  links: { traceId: string; spanId: string }[];
  error: boolean;
}

export interface Collector {
  readonly url: string;
  /** Where bodies are forwarded, if anywhere. */
  readonly forwardTo: string | undefined;
  readonly spans: CollectedSpan[];
  readonly forwardErrors: number;
  close(): Promise<void>;
}

const MAX_SPANS = 200_000;

/** Reads the fields of one protobuf message: calls `visit(field, wire, value)`. */
function fields(
  buf: Buffer,
  visit: (field: number, wire: number, value: Buffer | bigint) => void,
): void {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) visit(field, wire, varint());
    else if (wire === 1) {
      visit(field, wire, buf.readBigUInt64LE(pos));
      pos += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      visit(field, wire, buf.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const hex = (v: Buffer | bigint) => (Buffer.isBuffer(v) ? v.toString('hex') : '');
const str = (v: Buffer | bigint) => (Buffer.isBuffer(v) ? v.toString('utf8') : '');
const ms = (v: Buffer | bigint) => (typeof v === 'bigint' ? Number(v / 1000n) / 1000 : 0);

/** `service.name` of a Resource message. */
function serviceName(resource: Buffer): string {
  let name = 'unknown';
  fields(resource, (f, w, kv) => {
    if (f !== 1 || !Buffer.isBuffer(kv)) return;
    let key = '';
    let value = '';
    fields(kv, (ff, ww, v) => {
      if (ff === 1) key = str(v);
      else if (ff === 2 && Buffer.isBuffer(v))
        fields(v, (fff, www, s) => fff === 1 && (value = str(s)));
    });
    if (key === 'service.name') name = value;
  });
  return name;
}

function decodeSpan(buf: Buffer, service: string): CollectedSpan {
  const span: CollectedSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    service,
    startMs: 0,
    endMs: 0,
    links: [],
    error: false,
  };
  fields(buf, (f, _w, v) => {
    if (f === 1) span.traceId = hex(v);
    else if (f === 2) span.spanId = hex(v);
    else if (f === 4) span.parentSpanId = hex(v);
    else if (f === 5) span.name = str(v);
    else if (f === 7) span.startMs = ms(v);
    else if (f === 8) span.endMs = ms(v);
    else if (f === 13 && Buffer.isBuffer(v)) {
      const link = { traceId: '', spanId: '' };
      fields(v, (ff, _ww, vv) =>
        ff === 1 ? (link.traceId = hex(vv)) : ff === 2 && (link.spanId = hex(vv)),
      );
      span.links.push(link);
    } else if (f === 15 && Buffer.isBuffer(v))
      fields(v, (ff, _ww, code) => ff === 3 && code === 2n && (span.error = true));
  });
  return span;
}

/** Decodes an ExportTraceServiceRequest: resource_spans(1) → resource(1), scope_spans(2) → spans(2). */
export function decodeTraces(body: Buffer): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  fields(body, (f, _w, resourceSpans) => {
    if (f !== 1 || !Buffer.isBuffer(resourceSpans)) return;
    let service = 'unknown';
    const scopes: Buffer[] = [];
    fields(resourceSpans, (ff, _ww, v) => {
      if (ff === 1 && Buffer.isBuffer(v)) service = serviceName(v);
      else if (ff === 2 && Buffer.isBuffer(v)) scopes.push(v);
    });
    for (const scope of scopes) {
      fields(
        scope,
        (ff, _ww, v) => ff === 2 && Buffer.isBuffer(v) && out.push(decodeSpan(v, service)),
      );
    }
  });
  return out;
}

/** The configured OTLP traces endpoint, from the standard variables. */
export function configuredEndpoint(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

export async function startCollector(forwardTo: string | undefined): Promise<Collector> {
  const spans: CollectedSpan[] = [];
  let forwardErrors = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      try {
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        for (const span of decodeTraces(body)) if (spans.length < MAX_SPANS) spans.push(span);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } catch (error) {
        res.writeHead(400).end(String(error));
      }
      if (forwardTo !== undefined) {
        const headers: Record<string, string> = { 'content-type': 'application/x-protobuf' };
        if (req.headers['content-encoding'])
          headers['content-encoding'] = String(req.headers['content-encoding']);
        fetch(forwardTo, { method: 'POST', headers, body: raw, signal: AbortSignal.timeout(5000) })
          .then((r) => void (r.ok || forwardErrors++))
          .catch(() => void forwardErrors++);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    forwardTo,
    spans,
    get forwardErrors() {
      return forwardErrors;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
