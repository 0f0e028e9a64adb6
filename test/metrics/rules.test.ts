import { afterEach, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { isStacklightError, MetricError } from '../../src/errors.js';
import { allMetricDefinitions, type MetricDefinition } from '../../src/metrics/catalog.js';
import { renderMetrics } from '../../src/metrics/exposition.js';
import { createMetrics } from '../../src/metrics/registry.js';
import {
  checkMetricDefinition,
  checkMetricName,
  METRIC_RULES,
  suggestMetricName,
  toSnakeCase,
  type MetricRuleId,
} from '../../src/metrics/rules.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { promtoolCheckMetrics } from '../helpers/promtool.js';

function room(defaultLabels: Record<string, string> = { service: 'edge' }) {
  return createMetrics({
    defaultLabels,
    maxSeriesPerMetric: 2000,
    defaultMetrics: false,
    serviceVersion: '1.2.3',
  });
}

/** Calls define and returns the MetricError it throws (fails the test if none). */
function rejection(def: unknown, defaultLabels?: Record<string, string>): MetricError {
  const { define } = room(defaultLabels);
  try {
    define(def as MetricDefinition);
  } catch (err) {
    expect(isStacklightError(err)).toBe(true);
    expect(err).toBeInstanceOf(MetricError);
    return err as MetricError;
  }
  throw new Error(`definition was accepted: ${JSON.stringify(def)}`);
}

const ok = {
  name: 'orders_created_total',
  type: 'counter',
  help: 'Orders created, by channel.',
  labelNames: ['channel'],
} as const;

describe('metric definition rules', () => {
  it('accepts every catalog entry (the spec’s _ms names included) and nothing else with _ms', () => {
    for (const def of allMetricDefinitions()) {
      expect(checkMetricDefinition(def), def.name).toEqual([]);
    }
    expect(checkMetricName('checkout_duration_ms', 'histogram').map((v) => v.rule)).toEqual([
      'base-unit',
    ]);
  });

  // One definition per rule: the rule id is on the error and the message says what to write.
  const cases: [MetricRuleId, Record<string, unknown>, RegExp, Record<string, string>?][] = [
    ['metric-type', { ...ok, type: 'meter' }, /use 'counter', 'gauge' or 'histogram'/],
    ['metric-type', { ...ok, name: 'rtt_seconds', type: 'summary' }, /type 'histogram' with/],
    ['name-grammar', { ...ok, name: 'orders-created_total' }, /e\.g\. "orders_created_total"/],
    ['name-grammar', { ...ok, name: 'app:orders_total' }, /colons are reserved/],
    ['name-snake-case', { ...ok, name: 'ordersCreated_total' }, /write "orders_created_total"/],
    ['name-snake-case', { ...ok, name: '__orders_total' }, /reserved/],
    ['counter-total', { ...ok, name: 'orders_created' }, /write "orders_created_total"/],
    [
      'total-only-counters',
      { ...ok, name: 'open_orders_total', type: 'gauge' },
      /write "open_orders".*make it a counter/,
    ],
    ['reserved-suffix', { ...ok, name: 'orders_count', type: 'gauge' }, /_count/],
    ['reserved-suffix', { ...ok, name: 'cache_created', type: 'gauge' }, /_created/],
    ['reserved-suffix', { ...ok, name: 'tls_bucket', type: 'gauge' }, /_bucket/],
    ['reserved-suffix', { ...ok, name: 'build_info' }, /info metric \(a gauge set to 1\)/],
    ['base-unit', { ...ok, name: 'payload_kb', type: 'gauge', labelNames: [] }, /"payload_bytes"/],
    [
      'base-unit',
      { ...ok, name: 'render_milliseconds', type: 'histogram', buckets: [1] },
      /"render_seconds"/,
    ],
    [
      'unit-suffix',
      { ...ok, name: 'render_duration', type: 'histogram', buckets: [1] },
      /"render_duration_seconds"/,
    ],
    ['label-grammar', { ...ok, labelNames: ['a-b'] }, /e\.g\. "a_b"/],
    ['label-snake-case', { ...ok, labelNames: ['userTier'] }, /write "user_tier"/],
    ['reserved-label', { ...ok, labelNames: ['service'] }, /already carries it/],
    ['reserved-label', { ...ok, labelNames: ['le'] }, /histogram buckets/],
    ['reserved-label', { ...ok, labelNames: ['quantile'] }, /summary/],
    ['reserved-label', { ...ok, labelNames: ['__name'] }, /starts with __/],
    [
      'reserved-label',
      { ...ok, labelNames: ['region'] },
      /default label/,
      { service: 'edge', env: 'test', region: 'eu' },
    ],
    ['duplicate-label', { ...ok, labelNames: ['channel', 'channel'] }, /listed twice/],
    ['bounded-labels', { ...ok, boundedLabels: ['code'] }, /not in labelNames/],
    ['buckets', { ...ok, name: 'size_bytes', type: 'histogram' }, /needs buckets/],
    ['buckets', { ...ok, name: 'size_bytes', type: 'histogram', buckets: [1, NaN] }, /finite/],
    [
      'buckets',
      { ...ok, name: 'size_bytes', type: 'histogram', buckets: [1, Infinity] },
      /\+Inf is added by the exposition/,
    ],
    ['buckets', { ...ok, name: 'size_bytes', type: 'histogram', buckets: [2, 1] }, /ascending/],
    ['buckets', { ...ok, name: 'size_bytes', type: 'histogram', buckets: [1, 1] }, /unique/],
    ['buckets', { ...ok, buckets: [1, 2] }, /has no buckets/],
    ['help', { ...ok, help: '  ' }, /one sentence/],
    ['help', { ...ok, help: undefined }, /help is missing/],
  ];
  it.each(cases)(
    'rejects a definition breaking %s, saying what to write',
    (rule, def, advice, dl) => {
      const err = rejection(def, dl);
      expect(err.rules).toContain(rule);
      expect(err.code).toBe('STACKLIGHT_METRIC');
      expect(err.message).toMatch(/^stacklight: invalid metric definition/);
      expect(err.message).toContain(`[${rule}]`);
      expect(err.message).toMatch(advice);
    },
  );

  it('has a case for every rule', () => {
    const covered = new Set(cases.map(([r]) => r));
    expect([...covered].sort()).toEqual(Object.keys(METRIC_RULES).sort());
  });

  it('accepts any base-unit suffix, free unit text and no stacks', async () => {
    const { define, registry } = room();
    const h = define({
      name: 'upload_size_bytes',
      type: 'histogram',
      help: 'Upload sizes.',
      labelNames: ['kind'],
      buckets: [1024, 65536, 1048576],
      unit: 'bytes',
    } as const);
    h.observe({ kind: 'avatar' }, 2000);
    define({ name: 'hit_ratio', type: 'gauge', help: 'Cache hit ratio.', labelNames: [] });
    define({
      name: 'cpu_temperature_celsius',
      type: 'histogram',
      help: 'CPU temperature.',
      labelNames: [],
      buckets: [40, 60, 80],
    });
    const text = await renderMetrics(registry, { defaultLabels: { service: 'edge' } });
    expect(text).toContain('upload_size_bytes_bucket{kind="avatar",service="edge",le="65536"} 1');
    expect(promtoolCheckMetrics(text).problems).toEqual([]);
  });

  it('suggests a fixed name when a mechanical rewrite is enough', () => {
    expect(suggestMetricName('ordersCreated', 'counter')).toBe('orders_created_total');
    expect(suggestMetricName('orders-created', 'counter')).toBe('orders_created_total');
    expect(suggestMetricName('open_orders_total', 'gauge')).toBe('open_orders');
    expect(suggestMetricName('render_time', 'histogram')).toBeUndefined();
    expect(toSnakeCase('HTTPRequestsTotal')).toBe('http_requests_total');
  });
});

describe('labels at record time (JavaScript callers)', () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
  });

  it('drops an observation with an unknown or missing label, counts it and warns once', async () => {
    const logs = createLogCapture();
    telemetry = init({
      service: 'edge',
      // ws listed: the dropped observation below registers nothing itself.
      metrics: { defaultMetrics: false, families: ['ws'] },
      tracing: { enabled: false },
      logging: { destination: logs.stream },
      shutdown: { handleSignals: false },
    });
    const m = telemetry.metrics as unknown as Record<
      string,
      { inc: (...a: unknown[]) => void; observe: (...a: unknown[]) => void }
    >;
    m.httpRequestsTotal!.inc({ path: '/login' });
    m.httpRequestsTotal!.inc({ path: '/login', secret: 'a@b.example' });
    m.httpRequestsTotal!.inc({ route: '/login', method: 'GET', code: 200, path: '/login?x=1' });
    m.httpRequestDurationSeconds!.observe({ route: '/login', method: 'GET' }, 0.1);
    m.wsActiveConnections!.inc({ room: 'x' });
    m.httpRequestsTotal!.inc({ route: '/login', method: 'GET', code: 200 });

    const text = await telemetry.metricsText();
    expect(text).not.toMatch(/http_requests_total\{route="",/);
    expect(text).toContain(
      'http_requests_total{route="/login",method="GET",code="200",service="edge"} 1',
    );
    expect(text).not.toContain('http_request_duration_seconds_bucket{');
    expect(text).toContain('ws_active_connections{service="edge"} 0');
    expect(text).toContain(
      'stacklight_internal_errors_total{component="metric_labels",service="edge"} 5',
    );
    const warnings = logs.lines().filter((l) => String(l.msg).includes('do not fit'));
    expect(warnings.map((l) => l.msg)).toEqual([
      'stacklight: metric "http_requests_total" was given labels that do not fit its definition: ' +
        'missing route, method, code; unknown path (it takes labels route, method, code); the observation ' +
        'was dropped (counted in stacklight_internal_errors_total{component="metric_labels"})',
      'stacklight: metric "http_request_duration_seconds" was given labels that do not fit its definition: ' +
        'missing code (it takes labels route, method, code); the observation was dropped ' +
        '(counted in stacklight_internal_errors_total{component="metric_labels"})',
      'stacklight: metric "ws_active_connections" was given labels that do not fit its definition: ' +
        'unknown room (it takes no labels); the observation was dropped ' +
        '(counted in stacklight_internal_errors_total{component="metric_labels"})',
    ]);
    expect(logs.text()).not.toContain('a@b.example');
    expect(logs.text()).not.toContain('/login?x=1');
  });

  it('bind() of a bad label object records nothing', () => {
    const { metrics, self } = room();
    const bad = { route: '/a', method: 'GET' } as unknown as Parameters<
      typeof metrics.httpRequestsTotal.bind
    >[0];
    expect(metrics.httpRequestsTotal.bind(bad)).toBeUndefined();
    metrics.httpRequestsTotal.inc(bad);
    expect(metrics.httpRequestsTotal.seriesCount).toBe(0);
    expect(self.internalErrorsTotal.read({ component: 'metric_labels' })).toBe(1);
  });
});

// ------------------------------------------------------------ property test

/** mulberry32: a small seeded PRNG, so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'http',
  'orders',
  'cache',
  'hits',
  'duration',
  'size',
  'queue',
  'depth',
  'seconds',
  'bytes',
  'ratio',
  'total',
  'count',
  'sum',
  'bucket',
  'created',
  'info',
  'ms',
  'milliseconds',
  's',
  'b',
  'kb',
  'minutes',
  'Orders',
  'fooBar',
  '9lives',
  'x',
  'celsius',
  'le',
  'job',
  'ms',
];
const SEPS = ['_', '_', '_', '_', '-', '.', ':', '', '__', ' '];
const LABELS = [
  'route',
  'method',
  'code',
  'kind',
  'le',
  'quantile',
  'service',
  '__name',
  'userTier',
  'user_id',
  'env',
  'a-b',
  '',
  'x',
  '9x',
  'route',
  '_private',
];
const TYPES = ['counter', 'gauge', 'histogram', 'histogram', 'summary', 'meter', undefined];
const HELPS = [
  'Some help.',
  'Help with a \\ backslash\nand a newline.',
  '',
  '   ',
  undefined,
  'é ✓',
];
const VALUES = ['a', '', 'with "quotes"', 'new\nline', 'back\\slash', 'ünï', '/users/:id', '5xx'];

const GOOD_WORDS = ['http', 'orders', 'cache', 'hits', 'duration', 'size', 'queue', 'depth', 'lag'];
const RISKY_WORDS = ['ms', 's', 'b', 'kb', 'minutes', 'count', 'sum', 'bucket', 'created', 'info'];
const GOOD_LABELS = ['route', 'method', 'code', 'kind', 'tier', 'region_name'];

function randomDefinition(r: () => number): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const n = 1 + Math.floor(r() * 4);
  // Most names are built the way an author would (snake_case words plus the
  // suffix the type asks for), the rest from anything; either may then meet
  // bad labels, buckets or help.
  const plausible = r() < 0.6;
  // Snake_case words that promtool flags in some positions (units, suffixes).
  const word = (): string => (r() < 0.2 ? pick(RISKY_WORDS) : pick(GOOD_WORDS));
  let name = plausible ? word() : pick(WORDS);
  for (let i = 1; i < n; i++) name += plausible ? `_${word()}` : pick(SEPS) + pick(WORDS);
  const type = pick(TYPES);
  if (plausible && type === 'counter') name += '_total';
  if (plausible && type === 'histogram') name += `_${pick(['seconds', 'bytes', 'ratio'])}`;
  const labelNames = Array.from({ length: Math.floor(r() * 4) }, () =>
    pick(plausible && r() < 0.8 ? GOOD_LABELS : LABELS),
  );
  let buckets: unknown;
  const b = r();
  if (b < 0.55) {
    const k = 1 + Math.floor(r() * 6);
    const xs = Array.from({ length: k }, () => Math.round(r() * 1000) / 100);
    buckets = r() < 0.7 ? [...new Set(xs)].sort((x, y) => x - y) : xs;
  } else if (b < 0.65) buckets = [0.1, NaN];
  else if (b < 0.7) buckets = [0.1, Infinity];
  else if (b < 0.75) buckets = [];
  const help = plausible && r() < 0.7 ? 'Some help.' : pick(HELPS);
  return { name, type, help, labelNames, buckets };
}

describe('property: random definitions through defineMetric', () => {
  it('rejects each one or gives an exposition promtool check metrics accepts', async () => {
    const seed = Number(process.env.STACKLIGHT_PROPERTY_SEED ?? 20_2026);
    const r = prng(seed);
    let accepted = 0;
    let rejected = 0;
    const seen = new Set<string>();
    // Several registries so that the exposition stays small enough to read on failure.
    for (let batch = 0; batch < 12; batch++) {
      const { define, registry } = room();
      const names: string[] = [];
      for (let i = 0; i < 60; i++) {
        const def = randomDefinition(r);
        if (typeof def.name === 'string' && seen.has(def.name)) continue;
        let m: ReturnType<typeof define>;
        try {
          m = define(def as unknown as MetricDefinition);
        } catch (err) {
          expect(err, JSON.stringify(def)).toBeInstanceOf(MetricError);
          expect((err as MetricError).rules.length).toBeGreaterThan(0);
          rejected++;
          continue;
        }
        accepted++;
        seen.add(m.name);
        names.push(m.name);
        const labels = Object.fromEntries(
          (def.labelNames as string[]).map((l) => [l, VALUES[Math.floor(r() * VALUES.length)]]),
        );
        const rec = m as unknown as Record<string, (...a: unknown[]) => void>;
        const args = (def.labelNames as string[]).length > 0 ? [labels] : [];
        if (m.type === 'counter') rec.inc!(...args, 3);
        else if (m.type === 'gauge') rec.set!(...args, -2.5);
        else rec.observe!(...args, 0.42);
      }
      const text = await renderMetrics(registry, { defaultLabels: { service: 'edge' } });
      const result = promtoolCheckMetrics(text);
      expect({ seed, batch, status: result.status, problems: result.problems }).toEqual({
        seed,
        batch,
        status: 0,
        problems: [],
      });
      for (const n of names) expect(text).toContain(`# TYPE ${n} `);
    }
    // Not vacuous: both outcomes occur in quantity.
    expect(accepted).toBeGreaterThan(40);
    expect(rejected).toBeGreaterThan(200);
  });
});
