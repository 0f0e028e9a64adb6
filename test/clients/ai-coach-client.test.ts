import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { AI_COACH_ENDPOINTS, createAiCoachClient } from '../../src/clients/index.js';
import { SPAN_NAMES } from '../../src/tracing/index.js';
import { useClientTestbed, refusedPort, rejection } from './fixtures.js';

const bed = useClientTestbed(undefined, true);

/** The three AI metrics for one endpoint, as plain numbers. */
function aiMetrics(endpoint: string) {
  const m = bed.telemetry.metrics;
  const errors: Record<string, number> = {};
  for (const reason of ['timeout', 'network', 'http_5xx', 'http_4xx']) {
    const n = m.aiRequestErrorsTotal.read({ endpoint, reason });
    if (n > 0) errors[reason] = n;
  }
  return {
    total: m.aiRequestTotal.read({ endpoint }),
    durations: m.aiRequestDurationMs.read({ endpoint }).count,
    errors,
  };
}

describe('createAiCoachClient', () => {
  it('maps the spec’s endpoints to the span-name catalog', () => {
    expect(AI_COACH_ENDPOINTS).toEqual({
      '/v1/indicators': SPAN_NAMES.indicators.name,
      '/v1/bias/score': SPAN_NAMES.biasScore.name,
      '/v1/nlg/reflect': SPAN_NAMES.nlgReflect.name,
    });
  });

  it('names the CLIENT span after the endpoint and counts a successful request', async () => {
    const ai = createAiCoachClient(bed.telemetry, { baseUrl: bed.server.url });
    const res = await ai.postJson('/v1/nlg/reflect', { tradeId: 't_1' });
    expect(res.status).toBe(200);
    expect(bed.server.seen[0]).toMatchObject({ method: 'POST', body: '{"tradeId":"t_1"}' });
    expect(bed.server.seen[0]!.headers['content-type']).toBe('application/json');

    const [span] = bed.spans.getFinishedSpans();
    expect(span!.name).toBe('nlg.reflect');
    expect(span!.kind).toBe(SpanKind.CLIENT);
    expect(span!.attributes).toMatchObject({
      'url.template': '/v1/nlg/reflect',
      'peer.service': 'ai-coach',
      'http.request.method': 'POST',
      'http.response.status_code': 200,
    });
    expect(aiMetrics('/v1/nlg/reflect')).toEqual({ total: 1, durations: 1, errors: {} });
  });

  it('labels each endpoint by its template and ignores the query string', async () => {
    const ai = createAiCoachClient(bed.telemetry, { baseUrl: bed.server.url });
    await ai.fetch('/v1/indicators?symbol=BTCUSDT&tf=1h');
    await ai.fetch(`${bed.server.url}/v1/bias/score`, { method: 'POST' });
    expect(bed.spans.getFinishedSpans().map((s) => s.name)).toEqual(['indicators', 'bias.score']);
    expect(aiMetrics('/v1/indicators').total).toBe(1);
    expect(aiMetrics('/v1/bias/score').total).toBe(1);
  });

  it('folds unknown paths into endpoint="other" so raw ids never become label values', async () => {
    const ai = createAiCoachClient(bed.telemetry, { baseUrl: bed.server.url });
    await ai.fetch('/v1/users/8f14e45f/digest');
    await ai.fetch('/v1/users/c9f0f895/digest');
    expect(aiMetrics('other').total).toBe(2);
    expect(bed.spans.getFinishedSpans()[0]!.name).toBe('GET');
    expect(await bed.telemetry.metricsText()).not.toContain('8f14e45f');
  });

  it('takes extra endpoints as templates, matched by urlTemplate', async () => {
    const ai = createAiCoachClient(bed.telemetry, {
      baseUrl: bed.server.url,
      endpoints: { '/v1/users/:id/digest': 'digest.aggregate' },
    });
    await ai.fetch('/v1/users/8f14e45f/digest', { urlTemplate: '/v1/users/:id/digest' });
    expect(aiMetrics('/v1/users/:id/digest').total).toBe(1);
    expect(bed.spans.getFinishedSpans()[0]!.name).toBe('digest.aggregate');
  });

  it('counts a 5xx as reason http_5xx and returns the response', async () => {
    const ai = createAiCoachClient(bed.telemetry, { baseUrl: bed.server.url });
    const res = await ai.postJson('/v1/bias/score', {}, { headers: { 'x-test-status': '503' } });
    expect(res.status).toBe(503);
    await ai.fetch('/status/500', { urlTemplate: '/v1/bias/score' });
    expect(aiMetrics('/v1/bias/score')).toEqual({
      total: 2,
      durations: 2,
      errors: { http_5xx: 2 },
    });
    const span = bed.spans.getFinishedSpans().at(-1)!;
    expect(span.name).toBe('bias.score');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('500');
  });

  it('counts a 4xx (HMAC skew, rate limit) as reason http_4xx', async () => {
    const ai = createAiCoachClient(bed.telemetry, { baseUrl: bed.server.url });
    await ai.fetch('/status/401', { urlTemplate: '/v1/indicators' });
    await ai.fetch('/status/429', { urlTemplate: '/v1/indicators' });
    expect(aiMetrics('/v1/indicators')).toEqual({
      total: 2,
      durations: 2,
      errors: { http_4xx: 2 },
    });
  });

  it('times out with a TimeoutError and counts reason timeout', async () => {
    const ai = createAiCoachClient(bed.telemetry, { baseUrl: bed.server.url, timeoutMs: 100 });
    const error = await rejection(ai.fetch('/hang', { urlTemplate: '/v1/nlg/reflect' }));
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(aiMetrics('/v1/nlg/reflect')).toEqual({
      total: 1,
      durations: 1,
      errors: { timeout: 1 },
    });
  });

  it('counts the caller’s own AbortSignal.timeout() as a timeout too', async () => {
    const ai = createAiCoachClient(bed.telemetry, { baseUrl: bed.server.url });
    const error = await rejection(
      ai.fetch('/hang', { urlTemplate: '/v1/nlg/reflect', signal: AbortSignal.timeout(80) }),
    );
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(aiMetrics('/v1/nlg/reflect').errors).toEqual({ timeout: 1 });
  });

  it('counts a refused connection as reason network and rethrows fetch’s error', async () => {
    const ai = createAiCoachClient(bed.telemetry, {
      baseUrl: `http://127.0.0.1:${await refusedPort()}`,
    });
    const error = await rejection(ai.postJson('/v1/bias/score', {}));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('fetch failed');
    expect(aiMetrics('/v1/bias/score')).toEqual({ total: 1, durations: 1, errors: { network: 1 } });
  });

  it('does not count the caller’s abort as an AI error', async () => {
    const ai = createAiCoachClient(bed.telemetry, { baseUrl: bed.server.url, timeoutMs: 5000 });
    const controller = new AbortController();
    const pending = ai.fetch('/hang', {
      urlTemplate: '/v1/nlg/reflect',
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 30);
    const error = await rejection(pending);
    expect((error as DOMException).name).toBe('AbortError');
    expect(aiMetrics('/v1/nlg/reflect')).toEqual({ total: 1, durations: 0, errors: {} });
  });

  it('fails fast on a wrong endpoint table', () => {
    expect(() => createAiCoachClient(bed.telemetry, { endpoints: { 'v1/x': 'x' } })).toThrow(
      'stacklight: aiCoachClient.endpoints["v1/x"] must be a non-empty span name under a path template starting with "/", got "x"',
    );
  });
});
