/**
 * The span exit of the scrubbing engine: a finished span's name, attribute
 * keys and values, event names and attributes (exception events included),
 * status message and link attributes go through the same redactor as log
 * lines, once, before any processor or exporter reads them.
 *
 * Where: for spans of the SDK (instrumentations, `withSpan`,
 * `telemetry.tracer`), {@link ScrubbingSpanProcessor} is the provider's
 * first span processor, so the batch processor, the OTLP encoder and any
 * processor a service adds see only scrubbed spans; for the middleware's
 * light server span, the light tracer's `onEnd` calls the same function
 * before the batch processor encodes it (light spans have no other
 * processor). Scrubbing in place at the end, rather than in `setAttribute`,
 * means one pass per span whatever was set and overwritten, and keeps the
 * span's limits and dropped counts exactly the SDK's.
 *
 * What it costs: clean constant strings (method, route, scheme, status) hit
 * the scrubber's memo; see bench/NOTES.md for the measured cost per span.
 */
import type { Attributes, AttributeValue, Link } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { createRedactor, type Redactor } from '../logging/redact.js';
import { MARKERS } from '../logging/scrub.js';

/** Options of {@link createSpanScrubber}. */
export interface SpanScrubOptions {
  redactor: Redactor;
  /**
   * Keep `exception.stacktrace` on exception events (scrubbed). Off: the
   * attribute is removed, as the log line's `error.stack` is.
   */
  stackTraces: boolean;
}

/** Mutable view of the parts of a finished span that are scrubbed. */
interface MutableSpan {
  name: string;
  readonly attributes: Attributes;
  readonly events: TimedEvent[];
  readonly links: Link[];
  readonly status: { message?: string };
}

const STACKTRACE = 'exception.stacktrace';

/**
 * Builds `scrubSpan(span)`, which rewrites a finished span in place. Never
 * throws (a span it cannot rewrite is left as it is and the failure
 * swallowed: the export is the caller's, not the scrubber's, to drop).
 */
export function createSpanScrubber(options: SpanScrubOptions): (span: ReadableSpan) => void {
  const { redactor, stackTraces } = options;
  const scrub = redactor.redactString;
  const isSecretKey = redactor.isSecretKey;

  function value(key: string, v: unknown): unknown {
    if (typeof v === 'string') return isSecretKey(key) ? MARKERS.redacted : scrub(v);
    if (typeof v === 'number' || typeof v === 'boolean') {
      return isSecretKey(key) ? MARKERS.redacted : v;
    }
    if (Array.isArray(v)) {
      if (isSecretKey(key)) return v.map((x: unknown) => (x == null ? x : MARKERS.redacted));
      return redactor.redactValue(v);
    }
    return v;
  }

  /** Scrubs `attrs` in place; drops `exception.stacktrace` when asked. */
  function attributes(attrs: Attributes | undefined, dropStack: boolean): void {
    if (attrs === undefined) return;
    for (const key in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, key)) continue;
      if (dropStack && key === STACKTRACE) {
        delete attrs[key];
        continue;
      }
      const v = attrs[key];
      const r = value(key, v);
      const k = key.length < 3 ? key : scrub(key);
      if (k !== key) {
        delete attrs[key];
        attrs[k] = r as AttributeValue;
      } else if (r !== v) attrs[key] = r as AttributeValue;
    }
  }

  return function scrubSpan(readable: ReadableSpan): void {
    try {
      const span = readable as unknown as MutableSpan;
      const name = scrub(span.name);
      if (name !== span.name) span.name = name;
      attributes(span.attributes, false);
      const events = span.events;
      for (let i = 0; i < events.length; i++) {
        const e = events[i] as TimedEvent;
        const en = scrub(e.name);
        if (en !== e.name) (e as { name: string }).name = en;
        attributes(e.attributes, !stackTraces && e.name === 'exception');
      }
      const links = span.links;
      for (let i = 0; i < links.length; i++) attributes((links[i] as Link).attributes, false);
      const status = span.status;
      if (typeof status.message === 'string' && status.message !== '') {
        const m = scrub(status.message);
        if (m !== status.message) status.message = m;
      }
    } catch {
      // A span object of an unknown shape: left as it is.
    }
  };
}

/**
 * The provider's first span processor: scrubs each span as it ends, before
 * the processors after it see it. Adds nothing at start.
 */
export class ScrubbingSpanProcessor implements SpanProcessor {
  constructor(private readonly scrubSpan: (span: ReadableSpan) => void) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.scrubSpan(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Options of {@link createScrubbingSpanProcessor}. */
export interface ScrubbingSpanProcessorOptions {
  /**
   * Extra secret keys, as `logging.redactKeys` takes them (the defaults always apply).
   * @default []
   */
  redactKeys?: readonly string[];
  /**
   * Keep `exception.stacktrace` on exception events (scrubbed); otherwise it is removed.
   * @default false
   */
  stackTraces?: boolean;
  /**
   * Longer strings are cut, as on log lines.
   * @default 8192
   */
  maxStringLength?: number;
}

/**
 * stacklight's span scrubbing as a span processor of your own OpenTelemetry
 * SDK, for services that run the Node SDK themselves (`tracing.provider:
 * 'external'`): stacklight cannot add processors to a provider it does not
 * own. Put it **first** in the SDK's `spanProcessors`, so that every
 * processor and exporter after it sees only scrubbed spans.
 *
 * @example
 * ```ts
 * import { NodeSDK } from '@opentelemetry/sdk-node';
 * import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
 * import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
 * import { createScrubbingSpanProcessor } from 'stacklight';
 *
 * new NodeSDK({
 *   spanProcessors: [createScrubbingSpanProcessor(), new BatchSpanProcessor(new OTLPTraceExporter())],
 * }).start();
 * ```
 */
export function createScrubbingSpanProcessor(
  options: ScrubbingSpanProcessorOptions = {},
): SpanProcessor {
  return new ScrubbingSpanProcessor(
    createSpanScrubber({
      redactor: createRedactor({
        keys: options.redactKeys,
        maxStringLength: options.maxStringLength,
      }),
      stackTraces: options.stackTraces ?? false,
    }),
  );
}
