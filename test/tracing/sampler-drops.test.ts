/**
 * The HTTP middleware skips the SDK for spans the configured sampler is
 * certain to drop. Whenever `samplerDrops` says "drop", the real sampler must
 * say NOT_RECORD for the same parent — for every sampler name, ratio and
 * kind of parent.
 */
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { SAMPLERS } from '../../src/config/settings.js';
import { createSampler, samplerDrops } from '../../src/tracing/provider.js';

const NAMES = SAMPLERS;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const parent = (flags: number, traceId = TRACE): SpanContext => ({
  traceId,
  spanId: '00f067aa0ba902b7',
  traceFlags: flags,
  isRemote: true,
});
const PARENTS: [string, SpanContext | undefined][] = [
  ['no parent', undefined],
  ['sampled parent', parent(TraceFlags.SAMPLED)],
  ['unsampled parent', parent(TraceFlags.NONE)],
  ['invalid parent', parent(TraceFlags.SAMPLED, '0'.repeat(32))],
];

describe('samplerDrops', () => {
  for (const name of NAMES) {
    for (const ratio of [0, 0.5, 1]) {
      it(`never claims a drop the ${name} sampler (ratio ${ratio}) would record`, () => {
        const sampler = createSampler(name, ratio);
        const drops = samplerDrops(name, ratio);
        let claimed = 0;
        for (const [, p] of PARENTS) {
          const ctx = p === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, p);
          const valid = p !== undefined && trace.isSpanContextValid(p) ? p : undefined;
          if (!drops(valid)) continue;
          claimed++;
          // Every trace id the SDK might generate: try many.
          for (let i = 0; i < 200; i++) {
            const traceId = p?.traceId ?? i.toString(16).padStart(32, 'f');
            const r = sampler.shouldSample(ctx, traceId, 'GET /', SpanKind.SERVER, {}, []);
            expect(r.decision).toBe(SamplingDecision.NOT_RECORD);
          }
        }
        // It does take the shortcut where it can (ratio 0 roots, unsampled parents).
        const expected =
          name === 'always_off' || (name === 'traceidratio' && ratio === 0)
            ? 4
            : name.startsWith('parentbased')
              ? 1 +
                (name === 'parentbased_always_off' ||
                (name === 'parentbased_traceidratio' && ratio === 0)
                  ? 2
                  : 0)
              : 0;
        expect(claimed).toBe(expected);
      });
    }
  }
});
