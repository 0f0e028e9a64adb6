/**
 * A Telemetry for tests: a real `init()` whose log lines, spans and metrics
 * stay in memory, for the assertions of `stacklight/testing`.
 */
import { Writable } from 'node:stream';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { init } from '../init.js';
import type { Telemetry } from '../types.js';
import type { LogFieldDeclarations, NoDeclaredFields } from '../logging/schema.js';
import type { StacklightOptions } from '../types.js';

/** A parsed log line. */
export type CapturedLogLine = Record<string, unknown>;

/** What {@link createTestTelemetry} returns; `F`: the declared log fields. */
export interface TestTelemetry<F extends LogFieldDeclarations = NoDeclaredFields> {
  /** The live handle: pass it to your app as you would in production. */
  readonly telemetry: Telemetry<F>;
  /** Finished spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** Log lines written so far, parsed. */
  logLines(): CapturedLogLine[];
  /** The raw NDJSON written so far (for "this text never appears" checks). */
  logText(): string;
  /** The exposition in Prometheus text. */
  metricsText(): Promise<string>;
  /** Forgets captured spans and log lines (metrics keep their values; use fresh instances per test). */
  clear(): void;
  /** Ends the instance (call in `afterEach`); safe to call twice. */
  shutdown(): Promise<void>;
}

/**
 * Starts a `Telemetry` for a test. Defaults differ from production where a
 * test needs them to: every span is sampled and kept in memory (no
 * exporter), log lines are captured at level `debug`, Node.js process metrics
 * are off, signals are not handled. Any option can still be given.
 *
 * Only one instance lives per process at a time (as with `init()`): shut it
 * down before the next test starts another.
 *
 * @example
 * ```ts
 * import { createTestTelemetry, assertMetric } from 'stacklight/testing';
 * const t = createTestTelemetry({ service: 'orders' });
 * const app = buildApp(t.telemetry);
 * await app.inject({ url: '/orders', method: 'POST' });
 * await assertMetric(t, 'http_requests_total', { route: '/orders', method: 'POST', code: '201' });
 * await t.shutdown();
 * ```
 */
export function createTestTelemetry<const F extends LogFieldDeclarations = NoDeclaredFields>(
  options: StacklightOptions<F> = {},
): TestTelemetry<F> {
  const exporter = new InMemorySpanExporter();
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const telemetry = init({
    ...options,
    service: options.service ?? 'test',
    env: options.env ?? 'test',
    logging: { level: 'debug', ...options.logging, destination: stream },
    metrics: { defaultMetrics: false, ...options.metrics },
    tracing: {
      exporter: 'none',
      sampler: 'always_on',
      ...options.tracing,
      spanProcessors: [
        ...(options.tracing?.spanProcessors ?? []),
        new SimpleSpanProcessor(exporter),
      ],
    },
    shutdown: { handleSignals: false, ...options.shutdown },
  });
  let ended: Promise<void> | undefined;
  return {
    telemetry,
    spans: () => exporter.getFinishedSpans(),
    logLines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as CapturedLogLine),
    logText: () => text,
    metricsText: () => telemetry.metricsText(),
    clear: () => {
      exporter.reset();
      text = '';
    },
    shutdown: () => (ended ??= telemetry.shutdown()),
  };
}
