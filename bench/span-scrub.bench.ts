/**
 * What scrubbing costs per sampled server span: the middleware's light span
 * started, given the server attributes, ended, with and without the span
 * scrubber in its `onEnd` (same sampler, limits and ids; the span is then
 * encoded to OTLP in both, as the batch processor does). Alternating rounds
 * in one process, median ratio; the machine's noise is in both sides.
 *
 *   node --import tsx bench/span-scrub.bench.ts
 */
import { SpanKind, SpanStatusCode, ROOT_CONTEXT } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createRedactor } from '../src/logging/redact.js';
import { createLightTracer } from '../src/tracing/light-tracer.js';
import { SpanEncoder } from '../src/tracing/otlp/encode.js';
import { createSpanScrubber } from '../src/tracing/span-scrub.js';

const resource = resourceFromAttributes({ 'service.name': 'edge' });
const scope = { name: 'stacklight', version: '0' };
const limits = {
  attributeCountLimit: 128,
  attributeValueLengthLimit: Infinity,
  eventCountLimit: 128,
  linkCountLimit: 128,
  attributePerEventCountLimit: 128,
  attributePerLinkCountLimit: 128,
};
const scrub = createSpanScrubber({ redactor: createRedactor(), stackTraces: false });

function tracer(scrubbing: boolean) {
  const encoder = new SpanEncoder();
  return createLightTracer({
    sampler: new AlwaysOnSampler(),
    spanLimits: limits,
    resource,
    instrumentationScope: scope,
    samplerKeepsNoAttributes: true,
    onEnd: (span: ReadableSpan) => {
      if (scrubbing) scrub(span);
      encoder.encode(span);
    },
  });
}

const ROUTES = ['/users/:id', '/trades/import', '/login', '/healthz'];

function run(t: ReturnType<typeof tracer>, n: number, failing: boolean): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const span = t.startSpan(
      'HTTP /users/:id',
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': 'GET',
          'url.scheme': 'http',
          'network.protocol.version': '1.1',
          'http.route': ROUTES[i & 3]!,
        },
      },
      ROOT_CONTEXT,
    );
    span.setAttribute('http.response.status_code', failing ? 500 : 200);
    if (failing) {
      span.recordException(new Error(`no user u${i & 7} (postgres://app:hunter2@db/app)`));
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    }
    span.end();
  }
  return Number(process.hrtime.bigint() - start) / n;
}

for (const failing of [false, true]) {
  const plain = tracer(false);
  const scrubbed = tracer(true);
  const n = failing ? 20_000 : 100_000;
  run(plain, n, failing);
  run(scrubbed, n, failing);
  const ratios: number[] = [];
  const deltas: number[] = [];
  const plainNs: number[] = [];
  for (let round = 0; round < 7; round++) {
    const a = run(plain, n, failing);
    const b = run(scrubbed, n, failing);
    ratios.push(b / a);
    plainNs.push(a);
    deltas.push(b - a);
  }
  ratios.sort((x, y) => x - y);
  deltas.sort((x, y) => x - y);
  plainNs.sort((x, y) => x - y);
  console.log(
    `${failing ? 'failing (exception event)' : 'typical'} server span: scrubbed/plain ` +
      `${ratios[3]!.toFixed(2)}×, +${deltas[3]!.toFixed(0)} ns per span ` +
      `(unscrubbed ${plainNs[3]!.toFixed(0)} ns; median of 7)`,
  );
}
