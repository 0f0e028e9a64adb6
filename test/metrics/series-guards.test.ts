/**
 * A label value a service author did not expect to be long (a job name
 * built from user input, a 10 KB string by mistake) never reaches the
 * exposition whole: it is cut to 200 characters, and the cut value is
 * still one series.
 */
import { describe, expect, it } from 'vitest';
import { renderMetrics } from '../../src/metrics/exposition.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { labelValue, MAX_LABEL_VALUE_LENGTH } from '../../src/metrics/series.js';

function room() {
  return createMetrics({
    defaultLabels: { service: 'edge' },
    maxSeriesPerMetric: 2000,
    defaultMetrics: false,
    serviceVersion: '1.2.3',
  });
}

describe('label values', () => {
  it('cuts a 10 KB label value to 200 characters in the exposition', async () => {
    const m = room();
    const huge = 'r'.repeat(10 * 1024);
    m.metrics.httpRequestsTotal.inc({ route: huge, method: 'GET', code: 200 });
    m.metrics.httpRequestsTotal.inc({ route: huge + '-another-tail', method: 'GET', code: 200 });
    const text = await renderMetrics(m.registry, { defaultLabels: { service: 'edge' } });
    const line = text.split('\n').find((l) => l.startsWith('http_requests_total{'));
    expect(line).toBe(
      `http_requests_total{route="${'r'.repeat(200)}",method="GET",code="200",service="edge"} 2`,
    );
    expect(text.length).toBeLessThan(10 * 1024);
  });

  it('keeps a value of exactly 200 characters and cuts one of 201', () => {
    expect(MAX_LABEL_VALUE_LENGTH).toBe(200);
    const exact = 'a'.repeat(199) + 'z';
    expect(labelValue(exact)).toBe(exact);
    expect(labelValue(exact + 'X')).toBe(exact);
  });
});
