import { context, TraceFlags } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** How one export ended. */
export type BatchResult = 'ok' | 'failed' | 'timeout';

/**
 * What the processor hands finished spans to. `prepare` runs when a span
 * ends and turns it into what waits in the queue (the span itself, or its
 * encoded bytes); `export` sends a batch of those.
 */
export interface BatchExporter<T> {
  prepare(span: ReadableSpan): T;
  export(batch: T[], done: (result: BatchResult) => void): void;
  shutdown(): Promise<void>;
  /**
   * Ends every export in flight at once (sockets destroyed, retries
   * cancelled; each calls back `failed`) and refuses new ones. Optional:
   * without it an export in flight is left to its own timeout.
   */
  abort?(): void;
}

/** An OpenTelemetry `SpanExporter` as a {@link BatchExporter} of the spans themselves. */
export function fromSpanExporter(exporter: SpanExporter): BatchExporter<ReadableSpan> {
  return {
    prepare: (span) => span,
    export: (batch, done) =>
      exporter.export(batch, (result) =>
        done(result.code === ExportResultCode.SUCCESS ? 'ok' : 'failed'),
      ),
    shutdown: () => exporter.shutdown(),
  };
}

/** Options of {@link BoundedBatchSpanProcessor}. */
export interface BoundedBatchOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMs: number;
  exportTimeoutMs: number;
  /** Called with the number of spans dropped and why. */
  onDrop(
    reason: 'queue_full' | 'export_failed' | 'export_timeout' | 'shutdown',
    count: number,
  ): void;
}

/**
 * A batch span processor whose memory is bounded and whose losses are
 * counted. OpenTelemetry's BatchSpanProcessor drops on a full queue too, but
 * only reports it through `diag`; here every dropped span reaches a
 * self-metric (`stacklight_spans_dropped_total{reason}`), and a slow or dead
 * collector can hold at most `maxQueueSize` spans plus one batch in flight.
 */
export class BoundedBatchSpanProcessor<T = ReadableSpan> implements SpanProcessor {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private exporting: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly exporter: BatchExporter<T>,
    private readonly options: BoundedBatchOptions,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queue.length >= this.options.maxQueueSize) {
      this.options.onDrop('queue_full', 1);
      return;
    }
    let item: T;
    try {
      item = this.exporter.prepare(span);
    } catch {
      this.options.onDrop('export_failed', 1);
      return;
    }
    this.queue.push(item);
    if (this.queue.length >= this.options.maxExportBatchSize) this.kick();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.kick(), this.options.scheduledDelayMs);
      this.timer.unref();
    }
  }

  /** Starts an export unless one is in flight (one at a time keeps memory bounded). */
  private kick(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.exporting !== undefined || this.queue.length === 0) return;
    this.exporting = this.exportBatch().finally(() => {
      this.exporting = undefined;
      if (this.queue.length >= this.options.maxExportBatchSize) this.kick();
      else if (this.queue.length > 0 && this.timer === undefined && !this.closed) {
        this.timer = setTimeout(() => this.kick(), this.options.scheduledDelayMs);
        this.timer.unref();
      }
    });
  }

  private exportBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxExportBatchSize);
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (reason?: 'export_failed' | 'export_timeout'): void => {
        if (done) return;
        done = true;
        clearTimeout(timeout);
        if (reason !== undefined) this.options.onDrop(reason, batch.length);
        resolve();
      };
      // The exporter has its own timeout of the same length and usually
      // answers first; this one only guards against an exporter that never
      // calls back. A batch counted here may in rare cases still arrive.
      const timeout = setTimeout(
        () => finish('export_timeout'),
        this.options.exportTimeoutMs + 1000,
      );
      timeout.unref();
      // The exporter's own HTTP calls must not be traced (they would feed the queue).
      context.with(suppressTracing(context.active()), () => {
        try {
          this.exporter.export(batch, (result) =>
            finish(
              result === 'ok'
                ? undefined
                : result === 'timeout'
                  ? 'export_timeout'
                  : 'export_failed',
            ),
          );
        } catch {
          finish('export_failed');
        }
      });
    });
  }

  /**
   * Exports what is queued when the call starts, batch by batch. Spans that
   * end meanwhile wait for the next flush: under continuous load a flush
   * that chased the queue would never finish.
   */
  async forceFlush(): Promise<void> {
    let batches = Math.ceil(this.queue.length / this.options.maxExportBatchSize);
    if (this.exporting !== undefined) await this.exporting;
    while (batches-- > 0 && this.queue.length > 0) {
      this.kick();
      if (this.exporting !== undefined) await this.exporting;
    }
  }

  /**
   * Stops taking spans first, then exports what is queued. Whatever is still
   * queued when the exporter shuts down is counted as dropped (`shutdown`).
   */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    try {
      await this.forceFlush();
    } finally {
      if (this.queue.length > 0) this.options.onDrop('shutdown', this.queue.length);
      this.queue = [];
      await this.exporter.shutdown();
    }
  }

  /**
   * Gives up at once: stops taking spans, counts what is queued as dropped
   * (`shutdown`) and aborts the export in flight, whose batch is then
   * counted as failed. Used when the shutdown budget of the flush ends.
   */
  abort(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length > 0) this.options.onDrop('shutdown', this.queue.length);
    this.queue = [];
    try {
      if (this.exporter.abort !== undefined) this.exporter.abort();
      else void this.exporter.shutdown().catch(() => undefined);
    } catch {
      // Nothing more can be done; the export's own timeout still runs.
    }
  }

  /** Spans waiting for export (for tests and diagnostics). */
  get queued(): number {
    return this.queue.length;
  }
}
