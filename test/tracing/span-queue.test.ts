/**
 * The bounded span queue, deterministically: a stub exporter that answers
 * only when the test says so, a queue of a few spans, real spans from an
 * OpenTelemetry provider. What does not fit is dropped and counted by
 * reason; memory is bounded by the queue plus the one batch in flight.
 * (How much a burst saves on the heap is measured in
 * bench/export-faults.ts, outside `npm test`.)
 */
import { TraceFlags, type Tracer } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import {
  BoundedBatchSpanProcessor,
  type BatchExporter,
  type BatchResult,
} from '../../src/tracing/batch-processor.js';
import { createLogCapture } from '../helpers/log-capture.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';

type Reason = 'queue_full' | 'export_failed' | 'export_timeout' | 'shutdown';

/** An exporter that records each batch and answers only through `answer()`. */
class HeldExporter implements BatchExporter<string> {
  readonly batches: string[][] = [];
  private readonly pending: ((result: BatchResult) => void)[] = [];
  shutdowns = 0;
  prepare(span: ReadableSpan): string {
    return span.name;
  }
  export(batch: string[], done: (result: BatchResult) => void): void {
    this.batches.push(batch);
    this.pending.push(done);
  }
  /** Answers the oldest batch still waiting. */
  answer(result: BatchResult): void {
    const done = this.pending.shift();
    if (done === undefined) throw new Error('no batch is waiting for an answer');
    done(result);
  }
  get waiting(): number {
    return this.pending.length;
  }
  shutdown(): Promise<void> {
    this.shutdowns++;
    return Promise.resolve();
  }
}

function setup(
  options: { maxQueueSize?: number; maxExportBatchSize?: number; exportTimeoutMs?: number } = {},
  exporter: BatchExporter<string> = new HeldExporter(),
) {
  const drops: Record<Reason, number> = {
    queue_full: 0,
    export_failed: 0,
    export_timeout: 0,
    shutdown: 0,
  };
  const processor = new BoundedBatchSpanProcessor(exporter, {
    maxQueueSize: options.maxQueueSize ?? 4,
    maxExportBatchSize: options.maxExportBatchSize ?? 2,
    scheduledDelayMs: 60_000, // batches leave when full or on flush, never by the clock here
    exportTimeoutMs: options.exportTimeoutMs ?? 60_000,
    onDrop: (reason, count) => {
      drops[reason] += count;
    },
  });
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  const tracer = provider.getTracer('span-queue');
  const end = (...names: string[]) => {
    for (const name of names) tracer.startSpan(name).end();
  };
  return { processor, drops, tracer, end, provider };
}

/** Lets the processor's promise callbacks (batch done → next kick) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the bounded span queue', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds at most maxQueueSize spans besides the batch in flight and counts the rest as queue_full', async () => {
    const exporter = new HeldExporter();
    const { processor, drops, end } = setup({ maxQueueSize: 4, maxExportBatchSize: 2 }, exporter);

    end('a', 'b'); // a full batch leaves at once and stays in flight
    expect(exporter.batches).toEqual([['a', 'b']]);
    end('c', 'd', 'e', 'f'); // the queue fills up
    expect(processor.queued).toBe(4);
    end('g', 'h', 'i'); // no room
    expect(processor.queued).toBe(4);
    expect(drops).toEqual({ queue_full: 3, export_failed: 0, export_timeout: 0, shutdown: 0 });
    // One export at a time: the full queue does not start a second one.
    expect(exporter.batches).toHaveLength(1);

    exporter.answer('ok');
    await settle();
    // The answer frees the exporter: the next full batch leaves.
    expect(exporter.batches).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(processor.queued).toBe(2);
    end('j', 'k'); // room again
    expect(processor.queued).toBe(4);
    expect(drops.queue_full).toBe(3);
  });

  it('counts a failed batch as export_failed, span by span', async () => {
    const exporter = new HeldExporter();
    const { drops, end } = setup({ maxQueueSize: 8, maxExportBatchSize: 3 }, exporter);
    end('a', 'b', 'c');
    exporter.answer('failed');
    await settle();
    expect(drops).toEqual({ queue_full: 0, export_failed: 3, export_timeout: 0, shutdown: 0 });
  });

  it('counts a batch the exporter reports as timed out as export_timeout', async () => {
    const exporter = new HeldExporter();
    const { drops, end } = setup({ maxQueueSize: 8, maxExportBatchSize: 2 }, exporter);
    end('a', 'b');
    exporter.answer('timeout');
    await settle();
    expect(drops).toEqual({ queue_full: 0, export_failed: 0, export_timeout: 2, shutdown: 0 });
  });

  it('gives up on an exporter that never answers, counts export_timeout, and moves on', async () => {
    vi.useFakeTimers();
    const exporter = new HeldExporter();
    const { processor, drops, end } = setup(
      { maxQueueSize: 8, maxExportBatchSize: 2, exportTimeoutMs: 500 },
      exporter,
    );
    end('a', 'b', 'c', 'd');
    expect(exporter.batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1499); // the guard waits the exporter's timeout plus a second
    expect(drops.export_timeout).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(drops.export_timeout).toBe(2);
    // The next batch left as soon as the first was given up.
    expect(exporter.batches).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(processor.queued).toBe(0);
    // A late answer to the abandoned batch is ignored (not counted twice).
    exporter.answer('failed');
    await vi.advanceTimersByTimeAsync(0);
    expect(drops).toEqual({ queue_full: 0, export_failed: 0, export_timeout: 2, shutdown: 0 });
  });

  it('counts a span whose preparation throws as export_failed and keeps the others', () => {
    const exporter = new HeldExporter();
    const prepare = exporter.prepare.bind(exporter);
    exporter.prepare = (span) => {
      if (span.name === 'bad') throw new Error('cannot encode');
      return prepare(span);
    };
    const { processor, drops, end } = setup({ maxQueueSize: 8, maxExportBatchSize: 4 }, exporter);
    end('a', 'bad', 'b');
    expect(processor.queued).toBe(2);
    expect(drops.export_failed).toBe(1);
  });

  it('takes no unsampled span', () => {
    const exporter = new HeldExporter();
    const drops = { queue_full: 0 };
    const processor = new BoundedBatchSpanProcessor(exporter, {
      maxQueueSize: 1,
      maxExportBatchSize: 1,
      scheduledDelayMs: 60_000,
      exportTimeoutMs: 60_000,
      onDrop: (reason, count) => {
        if (reason === 'queue_full') drops.queue_full += count;
      },
    });
    const provider = new BasicTracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [processor],
    });
    const span = provider.getTracer('t').startSpan('unsampled');
    expect(span.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
    span.end();
    expect(exporter.batches).toEqual([]);
    expect(processor.queued).toBe(0);
  });

  it('exports what is queued on shutdown, counts what cannot leave as shutdown, and takes nothing after', async () => {
    const exporter = new HeldExporter();
    const { processor, drops, end } = setup({ maxQueueSize: 4, maxExportBatchSize: 2 }, exporter);
    end('a'); // below a batch: waits for the timer or a flush
    expect(exporter.batches).toEqual([]);
    const closing = processor.shutdown();
    await settle();
    expect(exporter.batches).toEqual([['a']]);
    end('late'); // the processor is closed
    exporter.answer('ok');
    await closing;
    expect(exporter.shutdowns).toBe(1);
    expect(exporter.batches).toEqual([['a']]);
    expect(drops).toEqual({ queue_full: 0, export_failed: 0, export_timeout: 0, shutdown: 0 });
  });
});

describe('the span queue inside init()', () => {
  let telemetry: Telemetry | undefined;
  let receiver: OtlpReceiver | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
    await receiver?.close();
    receiver = undefined;
  });

  it('counts spans that find the queue full in stacklight_spans_dropped_total{reason="queue_full"}', async () => {
    // A collector that takes the request and never answers: the first batch
    // stays in flight, the queue fills, the rest is dropped.
    receiver = await startOtlpReceiver('hang');
    const logs = createLogCapture();
    telemetry = init({
      service: 'edge',
      logging: { destination: logs.stream },
      metrics: { defaultMetrics: false },
      shutdown: { timeoutMs: 300 },
      tracing: {
        exporter: 'otlp',
        endpoint: receiver.url,
        maxQueueSize: 6,
        maxExportBatchSize: 3,
        scheduledDelayMs: 60_000,
        exportTimeoutMs: 60_000,
      },
    });
    const tracer: Tracer = telemetry.tracer;
    for (let i = 0; i < 20; i++) tracer.startSpan(`s${i}`).end();
    // 3 in flight, 6 queued, 11 dropped.
    expect(telemetry.selfMetrics.spansDroppedTotal.read({ reason: 'queue_full' })).toBe(11);
    expect(await telemetry.metricsText()).toContain(
      'stacklight_spans_dropped_total{reason="queue_full",service="edge"} 11',
    );
  });
});
