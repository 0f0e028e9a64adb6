/**
 * A local OTLP/HTTP traces receiver for tests: a node:http server on port 0
 * that decodes `ExportTraceServiceRequest` protobuf bodies with a small
 * hand-written reader (no protobuf library needed) and keeps the spans.
 *
 * Only the fields the tests read are decoded (opentelemetry-proto
 * trace/v1/trace.proto, common/v1/common.proto); unknown fields are skipped
 * by wire type, so newer exporters keep working.
 *
 * Modes: `ok` answers 200 with an empty `ExportTraceServiceResponse`;
 * `hang` reads the request and never answers (a collector that is up but
 * stuck). For "refusing connections", use {@link closedPort}.
 *
 * @example
 * const receiver = await startOtlpReceiver();
 * init({ tracing: { exporter: 'otlp', endpoint: receiver.url, scheduledDelayMs: 50 } });
 * await receiver.waitForSpans((spans) => spans.some((s) => s.name === 'WS send'));
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** OTLP `Span.SpanKind`. */
export const OTLP_SPAN_KIND = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

export type OtlpValue =
  | string
  | number
  | boolean
  | bigint
  | OtlpValue[]
  | Uint8Array
  | { [key: string]: OtlpValue }
  | null;

/**
 * An `AnyValue` decoded with its kind kept ({@link DecodeOptions.typed}): an
 * integer and a double of the same value, or an empty value and a missing
 * one, are told apart.
 */
export type OtlpTypedValue =
  | { string: string }
  | { bool: boolean }
  | { int: bigint }
  | { double: number }
  | { array: OtlpTypedValue[] }
  | { kvlist: Record<string, OtlpTypedValue> }
  | { bytes: Uint8Array }
  | { empty: true };

export interface DecodeOptions {
  /**
   * Decode every `AnyValue` as an {@link OtlpTypedValue} (`{ int: 3n }`,
   * `{ double: 3 }`…) instead of a plain value (`3`).
   */
  typed?: boolean;
}

/** A decoded event. */
export interface OtlpEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: Record<string, OtlpValue>;
  droppedAttributesCount: number;
}

/** A decoded link. */
export interface OtlpLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: Record<string, OtlpValue>;
  droppedAttributesCount: number;
  flags: number;
}

/** A decoded span (ids as lowercase hex, `parentSpanId` '' for a root). */
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Record<string, OtlpValue>;
  droppedAttributesCount: number;
  events: OtlpEvent[];
  droppedEventsCount: number;
  links: OtlpLink[];
  droppedLinksCount: number;
  status: { code: number; message: string };
  /** `Span.flags`: trace flags in bits 0–7, 0x100 "has is_remote", 0x200 "parent is remote". */
  flags: number;
  /** Resource attributes of the batch (`service.name`…). */
  resource: Record<string, OtlpValue>;
  /** `ResourceSpans.schema_url` ('' when absent). */
  resourceSchemaUrl: string;
  scope: string;
  scopeVersion: string;
  /** `ScopeSpans.schema_url` ('' when absent). */
  scopeSchemaUrl: string;
}

export interface OtlpReceiver {
  /** `http://127.0.0.1:<port>/v1/traces` */
  readonly url: string;
  readonly spans: OtlpSpan[];
  /** Export requests received (each answered or not, depending on the mode). */
  readonly requests: number;
  /** Requests currently open (hang mode: never answered). */
  readonly openRequests: number;
  /** Most requests open at the same time. */
  readonly maxOpenRequests: number;
  /** Bodies that failed to decode, with the error. */
  readonly decodeErrors: string[];
  mode: 'ok' | 'hang';
  /** Resolves when `predicate(spans)` holds; rejects after `timeoutMs`. */
  waitForSpans(predicate: (spans: OtlpSpan[]) => boolean, timeoutMs?: number): Promise<OtlpSpan[]>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- protobuf reader

/** Protobuf wire types. */
const Wire = { Varint: 0, Fixed64: 1, Len: 2, Fixed32: 5 } as const;

/** A minimal protobuf reader over one message's bytes. */
class Reader {
  pos = 0;
  constructor(
    private readonly buf: Uint8Array,
    private readonly end = buf.length,
  ) {}

  done(): boolean {
    return this.pos >= this.end;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  }

  tag(): { field: number; wire: number } {
    const t = Number(this.varint());
    return { field: t >>> 3, wire: t & 7 };
  }

  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw new Error('truncated length-delimited field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return Buffer.from(this.bytes()).toString('utf8');
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new Error('truncated fixed64');
    const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8).readBigUInt64LE();
    this.pos += 8;
    return v;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new Error('truncated fixed32');
    const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 4).readUInt32LE();
    this.pos += 4;
    return v;
  }

  double(): number {
    const v = Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pos, 8).readDoubleLE();
    this.pos += 8;
    return v;
  }

  skip(wire: number): void {
    switch (wire) {
      case Wire.Varint:
        this.varint();
        return;
      case Wire.Fixed64:
        this.pos += 8;
        return;
      case Wire.Len:
        this.bytes();
        return;
      case Wire.Fixed32:
        this.pos += 4;
        return;
      default:
        throw new Error(`unsupported wire type ${wire}`);
    }
  }
}

/** Iterates the fields of a message. */
function fields(
  buf: Uint8Array,
  visit: (field: number, wire: number, r: Reader) => boolean | void,
): void {
  const r = new Reader(buf);
  while (!r.done()) {
    const { field, wire } = r.tag();
    const pos = r.pos;
    if (visit(field, wire, r) !== true && r.pos === pos) r.skip(wire);
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The AnyValue decoder in use: plain, or typed ({@link DecodeOptions.typed}). */
let anyValue: (buf: Uint8Array) => OtlpValue = plainAnyValue;

/** common.v1.AnyValue, kind kept. */
function typedAnyValue(buf: Uint8Array): OtlpTypedValue {
  let value: OtlpTypedValue = { empty: true };
  fields(buf, (field, wire, r) => {
    if (field === 1 && wire === Wire.Len) value = { string: r.string() };
    else if (field === 2 && wire === Wire.Varint) value = { bool: r.varint() !== 0n };
    else if (field === 3 && wire === Wire.Varint) value = { int: BigInt.asIntN(64, r.varint()) };
    else if (field === 4 && wire === Wire.Fixed64) value = { double: r.double() };
    else if (field === 5 && wire === Wire.Len) {
      const items: OtlpTypedValue[] = [];
      fields(r.bytes(), (f, w, rr) => {
        if (f === 1 && w === Wire.Len) items.push(typedAnyValue(rr.bytes()));
      });
      value = { array: items };
    } else if (field === 6 && wire === Wire.Len) {
      const list: Record<string, OtlpValue> = {};
      fields(r.bytes(), (f, w, rr) => {
        if (f === 1 && w === Wire.Len) keyValue(rr.bytes(), list);
      });
      value = { kvlist: list as Record<string, OtlpTypedValue> };
    } else if (field === 7 && wire === Wire.Len) value = { bytes: Uint8Array.from(r.bytes()) };
  });
  return value;
}

/** common.v1.AnyValue */
function plainAnyValue(buf: Uint8Array): OtlpValue {
  let value: OtlpValue = null;
  fields(buf, (field, wire, r) => {
    if (field === 1 && wire === Wire.Len) value = r.string();
    else if (field === 2 && wire === Wire.Varint) value = r.varint() !== 0n;
    else if (field === 3 && wire === Wire.Varint) {
      const v = BigInt.asIntN(64, r.varint());
      value =
        v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v;
    } else if (field === 4 && wire === Wire.Fixed64) value = r.double();
    else if (field === 5 && wire === Wire.Len) {
      const items: OtlpValue[] = [];
      fields(r.bytes(), (f, w, rr) => {
        if (f === 1 && w === Wire.Len) items.push(plainAnyValue(rr.bytes()));
      });
      value = items;
    } else if (field === 6 && wire === Wire.Len) {
      const list: Record<string, OtlpValue> = {};
      fields(r.bytes(), (f, w, rr) => {
        if (f === 1 && w === Wire.Len) keyValue(rr.bytes(), list);
      });
      value = list;
    } else if (field === 7 && wire === Wire.Len) value = Uint8Array.from(r.bytes());
  });
  return value;
}

/** repeated common.v1.KeyValue → record */
function keyValue(buf: Uint8Array, into: Record<string, OtlpValue>): void {
  let key = '';
  let value: OtlpValue = null;
  fields(buf, (field, wire, r) => {
    if (field === 1 && wire === Wire.Len) key = r.string();
    else if (field === 2 && wire === Wire.Len) value = anyValue(r.bytes());
  });
  into[key] = value;
}

function decodeLink(buf: Uint8Array): OtlpLink {
  const link: OtlpLink = {
    traceId: '',
    spanId: '',
    traceState: '',
    attributes: {},
    droppedAttributesCount: 0,
    flags: 0,
  };
  fields(buf, (field, wire, r) => {
    if (field === 5 && wire === Wire.Varint) link.droppedAttributesCount = Number(r.varint());
    if (field === 6 && wire === Wire.Fixed32) link.flags = r.fixed32();
    if (wire !== Wire.Len) return;
    if (field === 1) link.traceId = hex(r.bytes());
    else if (field === 2) link.spanId = hex(r.bytes());
    else if (field === 3) link.traceState = r.string();
    else if (field === 4) keyValue(r.bytes(), link.attributes);
  });
  return link;
}

function decodeEvent(buf: Uint8Array): OtlpEvent {
  const event: OtlpEvent = {
    timeUnixNano: 0n,
    name: '',
    attributes: {},
    droppedAttributesCount: 0,
  };
  fields(buf, (field, wire, r) => {
    if (field === 1 && wire === Wire.Fixed64) event.timeUnixNano = r.fixed64();
    else if (field === 2 && wire === Wire.Len) event.name = r.string();
    else if (field === 3 && wire === Wire.Len) keyValue(r.bytes(), event.attributes);
    else if (field === 4 && wire === Wire.Varint) event.droppedAttributesCount = Number(r.varint());
  });
  return event;
}

function decodeSpan(
  buf: Uint8Array,
  resource: Record<string, OtlpValue>,
  resourceSchemaUrl: string,
  scope: string,
  scopeVersion: string,
  scopeSchemaUrl: string,
): OtlpSpan {
  const span: OtlpSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
    flags: 0,
    resource,
    resourceSchemaUrl,
    scope,
    scopeVersion,
    scopeSchemaUrl,
  };
  fields(buf, (field, wire, r) => {
    switch (field) {
      case 1:
        if (wire === Wire.Len) span.traceId = hex(r.bytes());
        break;
      case 2:
        if (wire === Wire.Len) span.spanId = hex(r.bytes());
        break;
      case 3:
        if (wire === Wire.Len) span.traceState = r.string();
        break;
      case 4:
        if (wire === Wire.Len) span.parentSpanId = hex(r.bytes());
        break;
      case 5:
        if (wire === Wire.Len) span.name = r.string();
        break;
      case 6:
        if (wire === Wire.Varint) span.kind = Number(r.varint());
        break;
      case 7:
        if (wire === Wire.Fixed64) span.startTimeUnixNano = r.fixed64();
        break;
      case 8:
        if (wire === Wire.Fixed64) span.endTimeUnixNano = r.fixed64();
        break;
      case 9:
        if (wire === Wire.Len) keyValue(r.bytes(), span.attributes);
        break;
      case 10:
        if (wire === Wire.Varint) span.droppedAttributesCount = Number(r.varint());
        break;
      case 11:
        if (wire === Wire.Len) span.events.push(decodeEvent(r.bytes()));
        break;
      case 12:
        if (wire === Wire.Varint) span.droppedEventsCount = Number(r.varint());
        break;
      case 13:
        if (wire === Wire.Len) span.links.push(decodeLink(r.bytes()));
        break;
      case 14:
        if (wire === Wire.Varint) span.droppedLinksCount = Number(r.varint());
        break;
      case 16:
        if (wire === Wire.Fixed32) span.flags = r.fixed32();
        break;
      case 15:
        if (wire === Wire.Len) {
          fields(r.bytes(), (f, w, rr) => {
            if (f === 2 && w === Wire.Len) span.status.message = rr.string();
            else if (f === 3 && w === Wire.Varint) span.status.code = Number(rr.varint());
          });
        }
        break;
      default:
        break;
    }
  });
  return span;
}

/**
 * Decodes an `ExportTraceServiceRequest` (collector/trace/v1): resource_spans
 * = 1 → { resource = 1 { attributes = 1 }, scope_spans = 2 → { scope = 1
 * { name = 1, version = 2 }, spans = 2, schema_url = 3 }, schema_url = 3 }.
 */
export function decodeExportTraceServiceRequest(
  body: Uint8Array,
  options: DecodeOptions = {},
): OtlpSpan[] {
  anyValue = options.typed === true ? typedAnyValue : plainAnyValue;
  try {
    return decodeRequest(body);
  } finally {
    anyValue = plainAnyValue;
  }
}

function decodeRequest(body: Uint8Array): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  fields(body, (field, wire, r) => {
    if (field !== 1 || wire !== Wire.Len) return;
    const resourceSpans = r.bytes();
    const resource: Record<string, OtlpValue> = {};
    let resourceSchemaUrl = '';
    const scopeSpans: Uint8Array[] = [];
    fields(resourceSpans, (f, w, rr) => {
      if (w !== Wire.Len) return;
      if (f === 1) {
        fields(rr.bytes(), (ff, ww, rrr) => {
          if (ff === 1 && ww === Wire.Len) keyValue(rrr.bytes(), resource);
        });
      } else if (f === 2) scopeSpans.push(rr.bytes());
      else if (f === 3) resourceSchemaUrl = rr.string();
    });
    for (const ss of scopeSpans) {
      let scope = '';
      let scopeVersion = '';
      let scopeSchemaUrl = '';
      const spans: Uint8Array[] = [];
      fields(ss, (f, w, rr) => {
        if (w !== Wire.Len) return;
        if (f === 1) {
          fields(rr.bytes(), (ff, ww, rrr) => {
            if (ff === 1 && ww === Wire.Len) scope = rrr.string();
            else if (ff === 2 && ww === Wire.Len) scopeVersion = rrr.string();
          });
        } else if (f === 2) spans.push(rr.bytes());
        else if (f === 3) scopeSchemaUrl = rr.string();
      });
      for (const s of spans) {
        out.push(decodeSpan(s, resource, resourceSchemaUrl, scope, scopeVersion, scopeSchemaUrl));
      }
    }
  });
  return out;
}

// ---------------------------------------------------------------- server

export async function startOtlpReceiver(mode: 'ok' | 'hang' = 'ok'): Promise<OtlpReceiver> {
  const spans: OtlpSpan[] = [];
  const decodeErrors: string[] = [];
  const sockets = new Set<Socket>();
  let requests = 0;
  let open = 0;
  let maxOpen = 0;
  const waiters = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    requests++;
    open++;
    maxOpen = Math.max(maxOpen, open);
    let closed = false;
    const done = () => {
      if (!closed) {
        closed = true;
        open--;
      }
    };
    res.on('close', done);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Uint8Array = Buffer.concat(chunks);
      try {
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (req.url !== '/v1/traces') throw new Error(`unexpected path ${req.url}`);
        if (!String(req.headers['content-type']).startsWith('application/x-protobuf')) {
          throw new Error(`unexpected content-type ${req.headers['content-type']}`);
        }
        spans.push(...decodeExportTraceServiceRequest(body));
      } catch (error) {
        decodeErrors.push((error as Error).message);
      }
      for (const wake of waiters) wake();
      if (receiver.mode === 'hang') return;
      // An empty ExportTraceServiceResponse: full success.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const receiver: OtlpReceiver = {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    get requests() {
      return requests;
    },
    get openRequests() {
      return open;
    },
    get maxOpenRequests() {
      return maxOpen;
    },
    decodeErrors,
    mode,
    waitForSpans(predicate, timeoutMs = 10_000) {
      return new Promise<OtlpSpan[]>((resolve, reject) => {
        const check = () => {
          if (!predicate(spans)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(spans);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `OTLP receiver: condition not met after ${timeoutMs} ms (${spans.length} spans)`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** A port on 127.0.0.1 that refuses connections (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A span processor that keeps every span it sees end, in `into`. */
export function collectEnded(into: ReadableSpan[]): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd: (span) => void into.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
