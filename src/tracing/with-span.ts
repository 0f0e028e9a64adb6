import {
  context,
  diag,
  INVALID_SPAN_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { isThenable } from '../util/async.js';
import { exceptionOf, messageOf } from '../util/errors.js';

/** Name of the tracer used when none is passed. */
export const TRACER_NAME = 'stacklight';

/** Options of {@link withSpan}. */
export interface WithSpanOptions extends Omit<SpanOptions, 'attributes'> {
  /** Tracer to start the span with. @default trace.getTracer('stacklight') (the global provider) */
  tracer?: Tracer;
  /** Parent context. @default context.active() */
  context?: Context;
  /**
   * Applied to `attributes` before the span starts; the hook for the logging
   * team's redaction engine. If it throws, the attributes are dropped (fail
   * closed: unredacted data never reaches the exporter). Attributes `fn` sets
   * on the span itself do not go through it.
   */
  sanitize?: (attributes: Attributes) => Attributes;
  /**
   * Set status OK when `fn` succeeds. Off by default: OpenTelemetry leaves
   * success UNSET, and the SDK lets OK overwrite an ERROR that `fn` set itself
   * for a handled failure.
   * @default false
   */
  setOkStatusOnSuccess?: boolean;
}

/**
 * Runs `fn` inside a new active span and ends the span exactly once when `fn`
 * returns, throws, or (for a promise or other thenable) settles.
 *
 * A failure is recorded on the span (`recordException`, status ERROR with the
 * error's message) and rethrown unchanged; a value is returned unchanged (a
 * thenable is returned as the result of its `then`). Telemetry problems (a
 * broken tracer, a throwing `sanitize`) never surface: `fn` still runs, with a
 * non-recording span if need be. If `fn` ends the span itself, it is left alone.
 *
 * @example
 * const page = await withSpan(SPAN_NAMES.importPage.name, { 'import.page': n }, async (span) => {
 *   const trades = await broker.fetchPage(n);
 *   span.setAttribute('import.trades', trades.length);
 *   return trades;
 * });
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes | undefined,
  fn: (span: Span) => T,
  options?: WithSpanOptions,
): T {
  const parent = options?.context ?? context.active();
  const span = startSpan(name, attributes, parent, options);
  const setOk = options?.setOkStatusOnSuccess === true;

  let result: T;
  try {
    result = context.with(trace.setSpan(parent, span), fn, undefined, span);
  } catch (error) {
    endWithError(span, error);
    throw error;
  }

  if (!isThenable(result)) {
    endWithSuccess(span, setOk);
    return result;
  }
  let settled = false;
  try {
    return result.then(
      (value: unknown) => {
        if (!settled) {
          settled = true;
          endWithSuccess(span, setOk);
        }
        return value;
      },
      (error: unknown) => {
        if (!settled) {
          settled = true;
          endWithError(span, error);
        }
        throw error;
      },
    ) as T;
  } catch (error) {
    // A thenable whose `then` throws synchronously behaves like `fn` throwing.
    if (!settled) {
      settled = true;
      endWithError(span, error);
    }
    throw error;
  }
}

let sanitizeWarned = false;

function startSpan(
  name: string,
  attributes: Attributes | undefined,
  parent: Context,
  options: WithSpanOptions | undefined,
): Span {
  try {
    const tracer = options?.tracer ?? trace.getTracer(TRACER_NAME);
    const spanOptions: SpanOptions = {
      kind: options?.kind,
      links: options?.links,
      startTime: options?.startTime,
      root: options?.root,
      attributes: sanitized(attributes, options?.sanitize),
    };
    return tracer.startSpan(name, spanOptions, parent);
  } catch (error) {
    diag.warn('stacklight: starting a span failed; running without one', error);
    return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  }
}

function sanitized(
  attributes: Attributes | undefined,
  sanitize: ((attributes: Attributes) => Attributes) | undefined,
): Attributes | undefined {
  if (attributes === undefined || sanitize === undefined) return attributes;
  try {
    return sanitize(attributes);
  } catch (error) {
    if (!sanitizeWarned) {
      sanitizeWarned = true;
      diag.warn('stacklight: span attribute sanitizer threw; attributes dropped', error);
    }
    return undefined;
  }
}

function endWithSuccess(span: Span, setOk: boolean): void {
  try {
    // The SDK reports a non-recording span once it has ended: `fn` ended it itself.
    if (!span.isRecording()) return;
    if (setOk) span.setStatus({ code: SpanStatusCode.OK });
    span.end();
  } catch (error) {
    diag.debug('stacklight: ending span failed', error);
  }
}

function endWithError(span: Span, error: unknown): void {
  try {
    if (!span.isRecording()) return;
    span.recordException(exceptionOf(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
    span.end();
  } catch (failure) {
    diag.debug('stacklight: ending span failed', failure);
  }
}
