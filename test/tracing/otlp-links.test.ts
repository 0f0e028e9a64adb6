/**
 * Links in stacklight's OTLP encoding, as a backend shows them: a link to a
 * span of another service is marked remote (`Span.Link.flags` 0x300 bits),
 * and a span given more links than `linkCountLimit` says how many it lost
 * (`dropped_links_count`, field 14), each the same as OpenTelemetry's own
 * serializer writes.
 */
import { SpanKind, TraceFlags, type Link } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { SpanEncoder } from '../../src/tracing/otlp/encode.js';
import {
  collectEnded,
  decodeExportTraceServiceRequest,
  type OtlpSpan,
} from '../helpers/otlp-receiver.js';

const LINK_LIMIT = 2;

function spansWith(links: Link[]): ReadableSpan[] {
  const ended: ReadableSpan[] = [];
  const collect = collectEnded(ended);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'worker' }),
    spanProcessors: [collect],
    spanLimits: { linkCountLimit: LINK_LIMIT },
  });
  provider
    .getTracer('stacklight')
    .startSpan('process batch', { kind: SpanKind.CONSUMER, links })
    .end();
  return ended;
}

function ours(spans: ReadableSpan[]): OtlpSpan[] {
  const encoder = new SpanEncoder();
  return decodeExportTraceServiceRequest(encoder.request(spans.map((s) => encoder.encode(s))));
}

function theirs(spans: ReadableSpan[]): OtlpSpan[] {
  return decodeExportTraceServiceRequest(ProtobufTraceSerializer.serializeRequest(spans)!);
}

const link = (n: number, isRemote: boolean, traceFlags = TraceFlags.SAMPLED): Link => ({
  context: {
    traceId: `${n}`.padStart(32, 'a'),
    spanId: `${n}`.padStart(16, 'b'),
    traceFlags,
    isRemote,
  },
});

describe('OTLP links', () => {
  it('marks a link to a remote span as remote, and a local one as local', () => {
    const remote: Link = {
      context: {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
        traceState: new TraceState('vendor=abc'),
      },
      attributes: { 'messaging.message.id': 'm-1' },
    };
    const local = link(2, false, TraceFlags.NONE);
    const spans = spansWith([remote, local]);
    const [span] = ours(spans);
    expect(span!.links).toEqual([
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceState: 'vendor=abc',
        attributes: { 'messaging.message.id': 'm-1' },
        droppedAttributesCount: 0,
        flags: 0x01 | 0x100 | 0x200, // sampled, "has is_remote", is remote
      },
      expect.objectContaining({ flags: 0x100 }), // not sampled, "has is_remote", local
    ]);
    expect(span!.droppedLinksCount).toBe(0);
    expect(ours(spans)).toEqual(theirs(spans));
  });

  it('keeps linkCountLimit links and counts the dropped ones in dropped_links_count', () => {
    const spans = spansWith([1, 2, 3, 4, 5].map((n) => link(n, n % 2 === 0)));
    const [span] = ours(spans);
    // The SDK keeps the newest links (4 and 5) and counts the oldest three.
    expect(span!.links.map((l) => l.spanId)).toEqual(
      [link(4, true), link(5, false)].map((l) => l.context.spanId),
    );
    expect(span!.links.map((l) => l.flags)).toEqual([0x301, 0x101]);
    expect(span!.droppedLinksCount).toBe(3);
    expect(ours(spans)).toEqual(theirs(spans));
  });
});
