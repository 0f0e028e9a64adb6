/**
 * OTLP/protobuf encoding of finished spans (opentelemetry-proto
 * `collector/trace/v1`, `trace/v1`, `common/v1`, `resource/v1`).
 *
 * Spans are encoded when they end, one `Span` message each, so that the
 * batch waiting for export holds a few hundred bytes per span instead of the
 * SDK's span object graph (which otherwise outlives several young-generation
 * collections and gets promoted). A request then only wraps the encoded
 * spans of each instrumentation scope with the resource, pre-encoded once.
 */
import type { Attributes, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ProtoWriter, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './proto-writer.js';

/**
 * A span encoded as `ScopeSpans.spans` (tag and length included), with its
 * scope: bytes [`start`, `end`) of `slab`, a buffer it shares with the spans
 * encoded before and after it.
 */
export interface EncodedSpan {
  readonly scope: InstrumentationScope;
  readonly slab: Buffer;
  readonly start: number;
  readonly end: number;
}

/**
 * Size of the buffers spans are encoded into, back to back (a server span
 * takes ~150–300 bytes). A slab is freed once every span in it has been
 * exported or dropped.
 */
const SLAB_BYTES = 64 * 1024;
/** A span starts a new slab when less than this is left in the current one. */
const SLAB_MIN_ROOM = 4096;

const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;
const MAX_INT64 = 2 ** 63;

function anyValue(w: ProtoWriter, value: unknown): void {
  switch (typeof value) {
    case 'string':
      w.tag(1, WIRE_LEN);
      w.string(value);
      return;
    case 'boolean':
      w.tag(2, WIRE_VARINT);
      w.varint(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= -MAX_INT64 && value < MAX_INT64) {
        w.tag(3, WIRE_VARINT);
        w.int64(value);
        return;
      }
      w.tag(4, WIRE_FIXED64);
      w.double(value);
      return;
    case 'object':
      if (value === null) return;
      if (value instanceof Uint8Array) {
        w.tag(7, WIRE_LEN);
        w.bytes(value);
        return;
      }
      if (Array.isArray(value)) {
        w.tag(5, WIRE_LEN);
        const array = w.begin();
        for (const item of value) {
          w.tag(1, WIRE_LEN);
          const v = w.begin();
          anyValue(w, item);
          w.end(v);
        }
        w.end(array);
        return;
      }
      w.tag(6, WIRE_LEN);
      {
        const list = w.begin();
        keyValues(w, 1, value as Record<string, unknown>);
        w.end(list);
      }
      return;
    default:
      // undefined, functions, symbols, bigint: an empty AnyValue.
      return;
  }
}

/** One `KeyValue` under `field`. */
function keyValue(w: ProtoWriter, field: number, key: string, value: unknown): void {
  w.tag(field, WIRE_LEN);
  const kv = w.begin();
  w.tag(1, WIRE_LEN);
  w.string(key);
  w.tag(2, WIRE_LEN);
  const v = w.begin();
  anyValue(w, value);
  w.end(v);
  w.end(kv);
}

/** `repeated KeyValue` under `field`. */
function keyValues(w: ProtoWriter, field: number, attributes: Record<string, unknown>): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    const value = attributes[key];
    if (value === undefined) continue;
    keyValue(w, field, key, value);
  }
}

/** Most distinct short string values cached per attribute key, and most keys. */
const FRAGMENT_VALUES_MAX = 64;
const FRAGMENT_KEYS_MAX = 256;
const FRAGMENT_VALUE_LENGTH_MAX = 64;
const FRAGMENT_KEY_LENGTH_MAX = 128;

/**
 * Span attributes (`Span.attributes`, field 9) with the encoded
 * `KeyValue` of short string values and small non-negative integers cached:
 * a server span's attributes are a few keys with a few values each (method,
 * scheme, protocol, route, status code), so most of them become one copy of
 * bytes encoded once. Bounded (values per key, keys, key and value length);
 * anything else is encoded as it comes.
 */
function spanAttributes(
  w: ProtoWriter,
  attributes: Record<string, unknown>,
  cache: Map<string, Map<string | number, Buffer>>,
): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    const value = attributes[key];
    if (value === undefined) continue;
    if (
      ((typeof value === 'string' && value.length <= FRAGMENT_VALUE_LENGTH_MAX) ||
        (typeof value === 'number' && value >= 0 && value <= 0xffff && Number.isInteger(value))) &&
      key.length <= FRAGMENT_KEY_LENGTH_MAX
    ) {
      let values = cache.get(key);
      const hit = values?.get(value);
      if (hit !== undefined) {
        w.raw(hit);
        continue;
      }
      const start = w.pos;
      keyValue(w, 9, key, value);
      if (values === undefined && cache.size < FRAGMENT_KEYS_MAX) {
        values = new Map();
        cache.set(key, values);
      }
      if (values !== undefined && values.size < FRAGMENT_VALUES_MAX) {
        values.set(value, Buffer.from(w.buf.subarray(start, w.pos)));
      }
      continue;
    }
    keyValue(w, 9, key, value);
  }
}

function counter(w: ProtoWriter, field: number, count: number | undefined): void {
  if (count === undefined || count <= 0) return;
  w.tag(field, WIRE_VARINT);
  w.varint(count);
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (isRemote === true ? FLAGS_IS_REMOTE : 0);
}

function event(w: ProtoWriter, e: TimedEvent): void {
  w.tag(11, WIRE_LEN);
  const start = w.begin();
  w.tag(1, WIRE_FIXED64);
  w.hrTime(e.time as HrTime);
  w.tag(2, WIRE_LEN);
  w.string(e.name);
  if (e.attributes !== undefined) keyValues(w, 3, e.attributes);
  counter(w, 4, e.droppedAttributesCount);
  w.end(start);
}

/** trace_id 1, span_id 2, trace_state 3: the same fields in `Span` and `Span.Link`. */
function ids(w: ProtoWriter, c: SpanContext): void {
  w.tag(1, WIRE_LEN);
  w.hexId(c.traceId, 16);
  w.tag(2, WIRE_LEN);
  w.hexId(c.spanId, 8);
  const state = c.traceState?.serialize();
  if (state) {
    w.tag(3, WIRE_LEN);
    w.string(state);
  }
}

function link(w: ProtoWriter, l: Link): void {
  w.tag(13, WIRE_LEN);
  const start = w.begin();
  const c = l.context;
  ids(w, c);
  if (l.attributes !== undefined) keyValues(w, 4, l.attributes);
  counter(w, 5, l.droppedAttributesCount);
  w.tag(6, WIRE_FIXED32);
  w.fixed32(spanFlags(c.traceFlags, c.isRemote));
  w.end(start);
}

/**
 * Writes `span` as a `ScopeSpans.spans` field (tag 2) at the writer's
 * position. Proto fields of `Span`: trace_id 1, span_id 2, trace_state 3,
 * parent_span_id 4, name 5, kind 6, start/end_time_unix_nano 7/8,
 * attributes 9, dropped_attributes_count 10, events 11,
 * dropped_events_count 12, links 13, dropped_links_count 14, status 15,
 * flags 16.
 */
export function writeSpan(
  w: ProtoWriter,
  span: ReadableSpan,
  fragments?: Map<string, Map<string | number, Buffer>>,
): void {
  w.tag(2, WIRE_LEN);
  const start = w.beginWide();
  const ctx = span.spanContext();
  ids(w, ctx);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, WIRE_LEN);
    w.hexId(parent.spanId, 8);
  }
  w.tag(5, WIRE_LEN);
  w.string(span.name);
  // API SpanKind is INTERNAL = 0 …; OTLP reserves 0 for UNSPECIFIED.
  w.tag(6, WIRE_VARINT);
  w.varint((span.kind ?? 0) + 1);
  w.tag(7, WIRE_FIXED64);
  w.hrTime(span.startTime);
  w.tag(8, WIRE_FIXED64);
  w.hrTime(span.endTime);
  if (fragments === undefined) keyValues(w, 9, span.attributes as Attributes);
  else spanAttributes(w, span.attributes as Attributes, fragments);
  counter(w, 10, span.droppedAttributesCount);
  for (const e of span.events) event(w, e);
  counter(w, 12, span.droppedEventsCount);
  for (const l of span.links) link(w, l);
  counter(w, 14, span.droppedLinksCount);
  const status = span.status;
  if (status.code !== 0 || status.message) {
    w.tag(15, WIRE_LEN);
    const s = w.begin();
    if (status.message) {
      w.tag(2, WIRE_LEN);
      w.string(status.message);
    }
    if (status.code !== 0) {
      w.tag(3, WIRE_VARINT);
      w.varint(status.code);
    }
    w.end(s);
  }
  w.tag(16, WIRE_FIXED32);
  w.fixed32(spanFlags(ctx.traceFlags, parent?.isRemote));
  w.endWide(start);
}

/** The `Resource` message's payload (attributes 1). */
export function encodeResource(resource: Resource): Buffer {
  const w = new ProtoWriter(512);
  keyValues(w, 1, resource.attributes);
  return w.take();
}

/** The `InstrumentationScope` message's payload (name 1, version 2). */
export function encodeScope(scope: InstrumentationScope): Buffer {
  const w = new ProtoWriter(128);
  w.tag(1, WIRE_LEN);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, WIRE_LEN);
    w.string(scope.version);
  }
  return w.take();
}

/**
 * Encodes spans one by one as they end and wraps a batch of them into an
 * `ExportTraceServiceRequest`. One encoder per exporter, whose spans share
 * one provider and so one resource: it is encoded once, from the first span.
 */
export class SpanEncoder {
  private readonly w = new ProtoWriter(0);
  private slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private slabPos = 0;
  private readonly scopes = new WeakMap<InstrumentationScope, Buffer>();
  /** Encoded span attributes with short string or small integer values (see `spanAttributes`). */
  private readonly fragments = new Map<string, Map<string | number, Buffer>>();
  private resourceBytes: Buffer | undefined;
  private resourceSchemaUrl: string | undefined;

  /**
   * One span, encoded straight into the current slab: no buffer of its own
   * per span (one allocation and one copy less than encoding then copying
   * out). A span that outgrows the slab (the writer then moved everything to
   * a bigger buffer) is copied to the start of a new slab: protobuf bytes do
   * not depend on where they sit.
   */
  encode(span: ReadableSpan): EncodedSpan {
    if (this.resourceBytes === undefined) {
      this.resourceBytes = encodeResource(span.resource);
      this.resourceSchemaUrl = span.resource.schemaUrl;
    }
    if (this.slab.length - this.slabPos < SLAB_MIN_ROOM) this.newSlab(0);
    const w = this.w;
    let start = this.slabPos;
    w.buf = this.slab;
    w.pos = start;
    writeSpan(w, span, this.fragments);
    if (w.buf !== this.slab) {
      const grown = w.buf;
      const size = w.pos - start;
      this.newSlab(size);
      grown.copy(this.slab, 0, start, start + size);
      start = 0;
      this.slabPos = size;
    } else {
      this.slabPos = w.pos;
    }
    return { scope: span.instrumentationScope, slab: this.slab, start, end: this.slabPos };
  }

  /** Starts a new slab with room for `size` bytes and then some. */
  private newSlab(size: number): void {
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, size + SLAB_MIN_ROOM));
    this.slabPos = 0;
  }

  /**
   * `ExportTraceServiceRequest { resource_spans = 1 { resource = 1,
   * scope_spans = 2 { scope = 1, spans = 2, schema_url = 3 }, schema_url = 3 } }`.
   */
  request(batch: readonly EncodedSpan[]): Buffer {
    const groups = new Map<InstrumentationScope, EncodedSpan[]>();
    let size = 64;
    for (const s of batch) {
      const g = groups.get(s.scope);
      if (g === undefined) groups.set(s.scope, [s]);
      else g.push(s);
      size += s.end - s.start;
    }
    const w = new ProtoWriter(size + (this.resourceBytes?.length ?? 0) + 256 * groups.size);
    w.tag(1, WIRE_LEN);
    const rs = w.begin();
    if (this.resourceBytes !== undefined) {
      w.tag(1, WIRE_LEN);
      w.bytes(this.resourceBytes);
    }
    for (const [scope, spans] of groups) {
      w.tag(2, WIRE_LEN);
      const ss = w.begin();
      let scopeBytes = this.scopes.get(scope);
      if (scopeBytes === undefined) {
        scopeBytes = encodeScope(scope);
        this.scopes.set(scope, scopeBytes);
      }
      w.tag(1, WIRE_LEN);
      w.bytes(scopeBytes);
      for (const s of spans) w.rawRange(s.slab, s.start, s.end);
      if (scope.schemaUrl) {
        w.tag(3, WIRE_LEN);
        w.string(scope.schemaUrl);
      }
      w.end(ss);
    }
    if (this.resourceSchemaUrl) {
      w.tag(3, WIRE_LEN);
      w.string(this.resourceSchemaUrl);
    }
    w.end(rs);
    return w.buf.subarray(0, w.pos);
  }
}
