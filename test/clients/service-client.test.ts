import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { createServiceClient } from '../../src/clients/index.js';
import { parseTraceParent } from '../../src/tracing/index.js';
import { useClientTestbed, rejection } from './fixtures.js';

const bed = useClientTestbed('edge');

describe('createServiceClient', () => {
  it('opens a CLIENT span named by template, with peer.service, and injects its context', async () => {
    const core = createServiceClient(bed.telemetry, {
      service: 'core',
      baseUrl: `${bed.server.url}/internal`,
    });
    const res = await core.fetch('/trades/t_1/score', {
      method: 'POST',
      urlTemplate: '/internal/trades/:id/score',
    });
    expect(res.status).toBe(200);
    expect(bed.server.seen[0]!.url).toBe('/internal/trades/t_1/score');
    const [span] = bed.spans.getFinishedSpans();
    expect(span!.name).toBe('POST /internal/trades/:id/score');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.attributes['peer.service']).toBe('core');
    expect(parseTraceParent(bed.server.seen[0]!.headers.traceparent)).toMatchObject({
      traceId: span!.spanContext().traceId,
      spanId: span!.spanContext().spanId,
    });
  });

  it('records no metrics of its own (the called service measures itself)', async () => {
    const before = await bed.telemetry.metricsText();
    const core = createServiceClient(bed.telemetry, { service: 'core', baseUrl: bed.server.url });
    await core.fetch('/status/503');
    expect(await bed.telemetry.metricsText()).toBe(before);
  });

  it('applies its timeout and rejects with a TimeoutError', async () => {
    const core = createServiceClient(bed.telemetry, {
      service: 'core',
      baseUrl: bed.server.url,
      timeoutMs: 80,
    });
    expect(((await rejection(core.fetch('/hang'))) as Error).name).toBe('TimeoutError');
    expect(bed.spans.getFinishedSpans()[0]!.attributes['error.type']).toBe('timeout');
  });

  it('fails fast without a service name', () => {
    expect(() => createServiceClient(bed.telemetry, {} as { service: string })).toThrow(
      'stacklight: serviceClient.service must be a lowercase name matching /^[a-z][a-z0-9_.-]{0,62}$/ (e.g. "binance"), got undefined',
    );
  });
});
