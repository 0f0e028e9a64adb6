/**
 * A label value a service author did not expect to be long (a job name
 * built from user input, a 10 KB string by mistake) never reaches the
 * exposition whole: it is cut to 200 characters, and the cut value is
 * still one series.
 */
import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { renderMetrics } from '../../src/metrics/exposition.js';
import { createMetrics, type MetricsSetup } from '../../src/metrics/registry.js';
import { labelValue, MAX_LABEL_VALUE_LENGTH } from '../../src/metrics/series.js';

function room(setup: Partial<MetricsSetup> = {}) {
  return createMetrics({
    defaultLabels: { service: 'edge' },
    maxSeriesPerMetric: 2000,
    defaultMetrics: false,
    serviceVersion: '1.2.3',
    ...setup,
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

/** The `http_requests_total` lines of an exposition, without the default labels. */
async function requestLines(m: ReturnType<typeof room>): Promise<string[]> {
  const text = await renderMetrics(m.registry);
  return text.split('\n').filter((l) => l.startsWith('http_requests_total{'));
}

/** `http_requests_total.inc` as JavaScript may call it, with any label values. */
function incLoose(m: ReturnType<typeof room>, labels: Record<string, unknown>): void {
  (m.metrics.httpRequestsTotal as unknown as { inc(l: Record<string, unknown>): void }).inc(labels);
}

describe('label values of other types', () => {
  it('exposes numbers, booleans and bigints as their text, objects by their String()', async () => {
    const m = room();
    const inc = (labels: Record<string, unknown>): void => incLoose(m, labels);
    inc({ route: '/n', method: true, code: 200 });
    inc({ route: '/big', method: 'GET', code: 10n });
    inc({ route: { toString: () => '/obj' }, method: 'GET', code: 200 });
    inc({ route: { toString: () => 'o'.repeat(300) }, method: 'GET', code: 200 });
    expect(await requestLines(m)).toEqual([
      'http_requests_total{route="/n",method="true",code="200"} 1',
      'http_requests_total{route="/big",method="GET",code="10"} 1',
      'http_requests_total{route="/obj",method="GET",code="200"} 1',
      `http_requests_total{route="${'o'.repeat(200)}",method="GET",code="200"} 1`,
    ]);
  });

  it('records a value whose String() throws under the empty value, without throwing', async () => {
    const m = room();
    const inc = (labels: Record<string, unknown>): void => incLoose(m, labels);
    const hostile = {
      toString() {
        throw new Error('no text for you');
      },
    };
    expect(() => inc({ route: hostile, method: 'GET', code: 200 })).not.toThrow();
    expect(await requestLines(m)).toEqual([
      'http_requests_total{route="",method="GET",code="200"} 1',
    ]);
  });

  it('cuts a bigint of more than 200 digits like any long value', () => {
    const huge = 10n ** 300n;
    expect(labelValue(huge)).toBe(String(huge).slice(0, 200));
    expect(labelValue(10n)).toBe('10');
  });

  it('normalises nullish to the empty value when called directly (never throws)', () => {
    expect(labelValue(undefined)).toBe('');
    expect(labelValue(null)).toBe('');
    expect(labelValue(0)).toBe('0');
    expect(labelValue(false)).toBe('false');
  });

  it('drops an observation with a null or undefined label value (first or later) instead of recording ""', async () => {
    const problems: string[] = [];
    const m = room({ onLabelError: (_metric, message) => problems.push(message) });
    const inc = (labels: Record<string, unknown>): void => incLoose(m, labels);
    inc({ route: null, method: 'GET', code: 200 });
    inc({ route: '/a', method: null, code: 200 });
    inc({ route: '/a', method: 'GET', code: null });
    // A key present with the value undefined is missing too.
    inc({ route: undefined, method: 'GET', code: 200 });
    inc({ route: '/a', method: undefined, code: 200 });
    expect(await requestLines(m)).toEqual([]);
    expect(m.self.internalErrorsTotal.read({ component: 'metric_labels' })).toBe(5);
    expect(problems).toEqual([
      expect.stringContaining('missing route (it takes labels route, method, code)'),
      expect.stringContaining('missing method (it takes labels route, method, code)'),
      expect.stringContaining('missing code (it takes labels route, method, code)'),
      expect.stringContaining('missing route (it takes labels route, method, code)'),
      expect.stringContaining('missing method (it takes labels route, method, code)'),
    ]);
  });

  it('keeps combinations apart whose values only differ in where one ends', async () => {
    const m = room();
    m.metrics.httpRequestsTotal.inc({ route: '/x', method: 'GET', code: '200' });
    m.metrics.httpRequestsTotal.inc({ route: '/xG', method: 'ET', code: '200' });
    m.metrics.httpRequestsTotal.inc({ route: '/x', method: 'GE', code: 'T200' });
    expect(await requestLines(m)).toEqual([
      'http_requests_total{route="/x",method="GET",code="200"} 1',
      'http_requests_total{route="/xG",method="ET",code="200"} 1',
      'http_requests_total{route="/x",method="GE",code="T200"} 1',
    ]);
  });
});

describe('a label object that does not fit', () => {
  it('names at most ten unknown labels, each cut to 40 characters, never a value', () => {
    const problems: string[] = [];
    const m = room({ onLabelError: (_metric, message) => problems.push(message) });
    const labels: Record<string, unknown> = { route: '/a', method: 'GET', code: 200 };
    const longName = `x${'y'.repeat(39)}z-tail`;
    labels[longName] = 'secret-value-1';
    labels['k'.repeat(40)] = 'secret-value-2'; // exactly 40: kept whole
    for (let i = 0; i < 12; i++) labels[`extra${i}`] = `secret-value-${i}`;
    incLoose(m, labels);
    expect(problems).toHaveLength(1);
    const names = [
      `x${'y'.repeat(39)}…`,
      'k'.repeat(40),
      ...Array.from({ length: 8 }, (_, i) => `extra${i}`),
    ];
    expect(problems[0]).toContain(
      `: unknown ${names.join(', ')} (it takes labels route, method, code)`,
    );
    expect(problems[0]).not.toContain('z-tail');
    expect(problems[0]).not.toContain('extra8');
    expect(problems[0]).not.toContain('secret-value');
  });
});

describe('the cap', () => {
  it('holds exactly the cap, then one overflow series per bounded value, then one more', async () => {
    const small = room({ maxSeriesPerMetric: 10 });
    const vendor = small.metrics.vendorReqDurationMs;
    for (let i = 0; i < 500; i++) vendor.observe({ vendor: `v${i}`, code: `c${i}` }, 1);
    // 10 own series, 100 overflow series keeping `code`, then one with both collapsed.
    expect(vendor.seriesCount).toBe(10 + 100 + 1);
    expect(vendor.overflowed).toBe(490);
    expect(small.self.seriesOverflowTotal.read({ metric: 'vendor_req_duration_ms' })).toBe(490);
    const counts = (await renderMetrics(small.registry))
      .split('\n')
      .filter((l) => l.startsWith('vendor_req_duration_ms_count{'));
    expect(counts.slice(0, 11)).toEqual([
      ...Array.from(
        { length: 10 },
        (_, i) => `vendor_req_duration_ms_count{vendor="v${i}",code="c${i}"} 1`,
      ),
      'vendor_req_duration_ms_count{vendor="__overflow__",code="c10"} 1',
    ]);
    expect(counts.at(-2)).toBe('vendor_req_duration_ms_count{vendor="__overflow__",code="c109"} 1');
    // Everything past the 110th series lands in the one fully collapsed series.
    expect(counts.at(-1)).toBe(
      'vendor_req_duration_ms_count{vendor="__overflow__",code="__overflow__"} 390',
    );
  });
});

describe('a bound recorder after a reset', () => {
  it('joins the series that was recreated through the labels, keeping its count', async () => {
    const m = room();
    const labels = { route: '/users/:id', method: 'GET', code: '200' } as const;
    const bound = m.metrics.httpRequestsTotal.bind(labels)!;
    bound.inc();
    m.metrics.httpRequestsTotal.reset();
    m.metrics.httpRequestsTotal.inc(labels);
    bound.inc();
    bound.inc();
    expect(await requestLines(m)).toEqual([
      'http_requests_total{route="/users/:id",method="GET",code="200"} 3',
    ]);
  });
});

describe('a bound recorder after series were dropped twice', () => {
  it('never records into a series that is no longer exposed', async () => {
    const m = room();
    const labels = { route: '/users/:id', method: 'GET', code: '200' } as const;
    const other = { route: '/other', method: 'GET', code: '200' } as const;
    const bound = m.metrics.httpRequestsTotal.bind(labels)!;
    m.metrics.httpRequestsTotal.inc(other);
    m.metrics.httpRequestsTotal.remove(other);
    m.metrics.httpRequestsTotal.reset();
    bound.inc();
    expect(await requestLines(m)).toEqual([
      'http_requests_total{route="/users/:id",method="GET",code="200"} 1',
    ]);
  });
});

describe("prom-client's cluster aggregation", () => {
  it('sums the counters of two workers', async () => {
    const workers = [room(), room()];
    for (const w of workers) {
      w.metrics.httpRequestsTotal.inc({ route: '/a', method: 'GET', code: '200' }, 2);
    }
    const merged = AggregatorRegistry.aggregate(
      await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON())),
    );
    expect(await merged.getSingleMetricAsString('http_requests_total')).toContain(
      'http_requests_total{route="/a",method="GET",code="200",service="edge"} 4',
    );
  });
});
