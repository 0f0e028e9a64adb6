/**
 * Micro-benchmarks of the hot paths, each against its bare counterpart in
 * the same process: metric instruments vs raw prom-client, traceparent
 * extract + inject vs OpenTelemetry's W3C propagator, exposition of 1 000
 * and 10 000 series vs prom-client's registry.
 *
 *   node --import tsx bench/micro.ts [--json bench/results/micro.json]
 */
import { writeFileSync } from 'node:fs';
import {
  context,
  ROOT_CONTEXT,
  trace,
  defaultTextMapGetter,
  defaultTextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Counter, Histogram, Registry } from 'prom-client';
import { METRIC_CATALOG } from '../src/metrics/catalog.js';
import { renderMetrics } from '../src/metrics/exposition.js';
import { createMetrics } from '../src/metrics/registry.js';
import { StrictW3CTraceContextPropagator } from '../src/tracing/propagator.js';
import { pairTable, runPairs, type Pair } from './lib.js';

const BATCH = 1000;
const def = METRIC_CATALOG.httpRequestDurationSeconds;

// Same labels for both sides, a realistic mix of 8 series.
const labelSets = Array.from({ length: 8 }, (_, i) => ({
  route: ['/users/:id', '/login', '/trades/import', '/healthz'][i % 4]!,
  method: i % 2 ? 'GET' : 'POST',
  code: i === 7 ? 500 : 200,
}));
const values = Array.from({ length: 64 }, (_, i) => (i * 0.037) % 3);

const room = createMetrics({
  defaultLabels: { service: 'edge' },
  maxSeriesPerMetric: 2000,
  defaultMetrics: false,
  serviceVersion: '1',
});
const promRegistry = new Registry();
const promHist = new Histogram({
  name: def.name,
  help: def.help,
  labelNames: [...def.labelNames],
  buckets: [...def.buckets],
  registers: [promRegistry],
});
const promCounter = new Counter({
  name: 'http_requests_total',
  help: 'x',
  labelNames: ['route', 'method', 'code'],
  registers: [promRegistry],
});

const tp = new StrictW3CTraceContextPropagator();
const otel = new W3CTraceContextPropagator();
const headersIn = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
};

function roundTrip(p: W3CTraceContextPropagator | StrictW3CTraceContextPropagator): () => void {
  return () => {
    for (let i = 0; i < BATCH; i++) {
      const ctx = p.extract(ROOT_CONTEXT, headersIn, defaultTextMapGetter);
      const out: Record<string, string> = {};
      p.inject(ctx, out, defaultTextMapSetter);
    }
  };
}

const pairs: Pair[] = [
  {
    name: 'histogram observe (3 labels)',
    batch: BATCH,
    target: 1.5,
    baseline: {
      label: 'prom-client',
      fn: () => {
        for (let i = 0; i < BATCH; i++) promHist.observe(labelSets[i & 7]!, values[i & 63]!);
      },
    },
    subject: {
      label: 'stacklight',
      fn: () => {
        for (let i = 0; i < BATCH; i++)
          room.metrics.httpRequestDurationSeconds.observe(labelSets[i & 7]!, values[i & 63]!);
      },
    },
  },
  {
    name: 'counter inc (3 labels)',
    batch: BATCH,
    target: 1.5,
    baseline: {
      label: 'prom-client',
      fn: () => {
        for (let i = 0; i < BATCH; i++) promCounter.inc(labelSets[i & 7]!);
      },
    },
    subject: {
      label: 'stacklight',
      fn: () => {
        for (let i = 0; i < BATCH; i++) room.metrics.httpRequestsTotal.inc(labelSets[i & 7]!);
      },
    },
  },
  {
    name: 'traceparent+tracestate extract + inject',
    batch: BATCH,
    baseline: { label: 'OTel W3C propagator', fn: roundTrip(otel) },
    subject: { label: 'stacklight strict', fn: roundTrip(tp) },
  },
];

// Exposition: the same N series in both registries.
async function expositionPairs(): Promise<Pair[]> {
  const out: Pair[] = [];
  for (const n of [1000, 10000]) {
    const r = createMetrics({
      defaultLabels: { service: 'edge' },
      maxSeriesPerMetric: n + 10,
      defaultMetrics: false,
      serviceVersion: '1',
    });
    const pr = new Registry();
    pr.setDefaultLabels({ service: 'edge' });
    const pc = new Counter({
      name: 'http_requests_total',
      help: 'x',
      labelNames: ['route', 'method', 'code'],
      registers: [pr],
    });
    for (let i = 0; i < n; i++) {
      const l = { route: `/r/${i}`, method: 'GET', code: 200 };
      r.metrics.httpRequestsTotal.inc(l);
      pc.inc(l);
    }
    // Render asynchronously outside the timed function; the timed part is one full render.
    let sink = '';
    const timeOne = async (fn: () => Promise<string>): Promise<number> => {
      const t = process.hrtime.bigint();
      sink = await fn();
      return Number(process.hrtime.bigint() - t);
    };
    const samples = { b: [] as number[], s: [] as number[] };
    for (let i = 0; i < 30; i++) {
      samples.b.push(await timeOne(() => pr.metrics()));
      samples.s.push(
        await timeOne(() => renderMetrics(r.registry, { defaultLabels: { service: 'edge' } })),
      );
    }
    void sink;
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    out.push({
      name: `exposition, ${n} series`,
      batch: 1,
      baseline: { label: 'prom-client', fn: () => undefined },
      subject: { label: 'stacklight', fn: () => undefined },
      precomputed: { b: med(samples.b), s: med(samples.s) },
    } as Pair & { precomputed: { b: number; s: number } });
  }
  return out;
}

const results = await runPairs(pairs);
for (const p of (await expositionPairs()) as (Pair & { precomputed: { b: number; s: number } })[]) {
  results.push({
    name: p.name,
    baseline: 'prom-client',
    subject: 'stacklight',
    baselineNs: p.precomputed.b,
    subjectNs: p.precomputed.s,
    ratio: p.precomputed.s / p.precomputed.b,
    spread: 0,
  });
}
void context;
void trace;
console.log(pairTable(results));
const jsonAt = process.argv.indexOf('--json');
if (jsonAt > 0)
  writeFileSync(
    process.argv[jsonAt + 1]!,
    JSON.stringify({ node: process.version, date: new Date().toISOString(), results }, null, 2),
  );
