/**
 * `createScrubbingSpanProcessor` in a provider the service owns (the
 * external-provider mode): placed first, the processors after it only ever
 * see scrubbed spans — the shared secret table, exception stacks removed by
 * default, look-alikes kept.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createScrubbingSpanProcessor } from '../../src/index.js';
import { LOOK_ALIKES, SECRET_STRINGS } from '../helpers/secret-cases.js';

function providerWith(options?: Parameters<typeof createScrubbingSpanProcessor>[0]) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [createScrubbingSpanProcessor(options), new SimpleSpanProcessor(exporter)],
  });
  return { tracer: provider.getTracer('app'), exporter };
}

const textOf = (x: unknown): string => JSON.stringify(x);

describe('createScrubbingSpanProcessor in a provider of your own', () => {
  it('removes every secret of the shared table before the next processor', () => {
    const { tracer, exporter } = providerWith();
    for (const c of SECRET_STRINGS) {
      const span = tracer.startSpan('op');
      span.setAttribute('case.text', c.text);
      span.addEvent('note', { detail: c.text });
      span.recordException(new Error(c.text));
      span.setStatus({ code: SpanStatusCode.ERROR, message: c.text });
      span.end();
    }
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(SECRET_STRINGS.length);
    spans.forEach((s, i) => {
      const c = SECRET_STRINGS[i]!;
      const text = textOf({ a: s.attributes, e: s.events, st: s.status });
      for (const secret of c.secrets) expect(text, c.name).not.toContain(secret);
      const exception = s.events.find((e) => e.name === 'exception');
      expect(exception?.attributes?.['exception.stacktrace'], c.name).toBeUndefined();
    });
  });

  it('keeps look-alikes, and stack traces when asked', () => {
    const { tracer, exporter } = providerWith({ stackTraces: true, redactKeys: ['tenantSeal'] });
    const span = tracer.startSpan('op', { attributes: { tenantSeal: 'x-1', ok: LOOK_ALIKES } });
    span.recordException(new Error('boom'));
    span.end();
    const [s] = exporter.getFinishedSpans();
    expect(s!.attributes.ok).toEqual(LOOK_ALIKES);
    expect(s!.attributes.tenantSeal).not.toBe('x-1');
    const exception = s!.events.find((e) => e.name === 'exception');
    expect(String(exception?.attributes?.['exception.stacktrace'])).toContain('boom');
  });
});
