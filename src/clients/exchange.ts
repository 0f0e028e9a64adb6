import {
  context,
  diag,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
} from '@opentelemetry/semantic-conventions';
import { partsOf } from '../handle-parts.js';
import { injectContext } from '../tracing/carriers.js';
import { requestSignal } from './signal.js';
import type {
  ClientRequestInit,
  ClientTelemetry,
  ExchangeOutcome,
  FailureKind,
  FetchLike,
  ClientHeadersInit,
} from './types.js';
import { clientSpanAttributes, clientSpanName, normalizeMethod, resolveUrl } from './url.js';
import { exceptionOf, messageOf } from '../util/errors.js';

/** What a client decides once, at creation. */
export interface ExchangeSetup {
  readonly tracer: Tracer;
  readonly fetch: FetchLike;
  readonly baseUrl: URL | undefined;
  readonly timeoutMs: number | undefined;
  readonly headers: Headers | undefined;
  /** Attributes added to every span of this client (`peer.service`…). */
  readonly attributes: Attributes;
  /** Counts a telemetry failure that was absorbed. */
  readonly internalError: () => void;
}

/** What a client decides per request, before it is sent. */
export interface ExchangePlan {
  /** Span name; when omitted, semconv's `{method} {url.template}`. */
  spanName?: string;
  /** Extra span attributes for this request. */
  attributes?: Attributes;
  /** Records the client's metrics; any throw is absorbed and counted. */
  record(outcome: ExchangeOutcome): void;
}

/** Builds the setup shared by every request of one client. */
export function exchangeSetup(
  telemetry: ClientTelemetry,
  options: {
    fetch?: FetchLike;
    baseUrl?: URL;
    timeoutMs?: number;
    headers?: ClientHeadersInit;
    attributes: Attributes;
  },
): ExchangeSetup {
  const errors = partsOf(telemetry).errors;
  return {
    tracer: telemetry.tracer,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    baseUrl: options.baseUrl,
    timeoutMs: options.timeoutMs,
    headers: options.headers === undefined ? undefined : new Headers(options.headers),
    attributes: options.attributes,
    internalError: () => errors.count('http_client'),
  };
}

/**
 * One instrumented request: a CLIENT span around `fetch`, trace headers
 * injected from that span, the timeout combined with the caller's signal,
 * and the outcome handed to `plan.record`.
 *
 * The span ends when the response headers arrive (or the request fails):
 * the body belongs to the caller. Errors from `fetch` are rethrown as they
 * are — the very same object — and telemetry failures are absorbed: the
 * request goes out even if no span can be started or no header injected.
 */
export async function exchange(
  setup: ExchangeSetup,
  input: string | URL,
  init: ClientRequestInit | undefined,
  plan: ExchangePlan,
): Promise<Response> {
  // Resolving the URL is the caller's business: a bad URL rejects like fetch would.
  const url = resolveUrl(input, setup.baseUrl);
  const { timeoutMs: ownTimeout, urlTemplate, ...requestInit } = init ?? {};
  const method = normalizeMethod(requestInit.method);
  // Invalid caller headers reject here, like fetch would, before any span starts.
  const headers = mergeHeaders(setup.headers, requestInit.headers);
  const span = startClientSpan(setup, url, method, urlTemplate, plan);
  // The server's parent must be this span: a traceparent the caller set is replaced.
  injectContext(headers, trace.setSpan(context.active(), span), 'fetch');

  const timeoutMs = ownTimeout ?? setup.timeoutMs;
  const signals = requestSignal(requestInit.signal, timeoutMs);
  const started = performance.now();
  let response: Response;
  try {
    response = await setup.fetch(url, { ...requestInit, headers, signal: signals.signal });
  } catch (error) {
    signals.release();
    const failure = classifyFailure(error, signals.timedOut(), requestInit.signal);
    const durationMs = performance.now() - started;
    finish(setup, plan, span, { status: undefined, failure, durationMs }, error);
    throw error;
  }
  // Nothing left to read: stop the timer now rather than when it fires.
  if (response.body === null) signals.release();
  const durationMs = performance.now() - started;
  finish(setup, plan, span, { status: response.status, failure: undefined, durationMs });
  return response;
}

function startClientSpan(
  setup: ExchangeSetup,
  url: URL,
  method: { method: string; original?: string },
  urlTemplate: string | undefined,
  plan: ExchangePlan,
): Span {
  try {
    const attributes = {
      ...setup.attributes,
      ...clientSpanAttributes(url, method, urlTemplate),
      ...plan.attributes,
    };
    return setup.tracer.startSpan(
      plan.spanName ?? clientSpanName(method.method, urlTemplate),
      { kind: SpanKind.CLIENT, attributes },
      context.active(),
    );
  } catch (error) {
    setup.internalError();
    diag.debug('stacklight: starting a client span failed', error);
    return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  }
}

/** The client's default headers, then the caller's (which win). */
function mergeHeaders(defaults: Headers | undefined, own: ClientHeadersInit | undefined): Headers {
  const headers = new Headers(defaults);
  if (own !== undefined) {
    new Headers(own).forEach((value, name) => headers.set(name, value));
  }
  return headers;
}

function classifyFailure(
  error: unknown,
  timedOut: boolean,
  caller: AbortSignal | null | undefined,
): FailureKind {
  if (caller?.aborted === true) return isTimeoutError(caller.reason) ? 'timeout' : 'aborted';
  if (timedOut || isTimeoutError(error)) return 'timeout';
  return 'network';
}

function isTimeoutError(value: unknown): boolean {
  return (
    value !== null &&
    typeof value === 'object' &&
    (value as { name?: unknown }).name === 'TimeoutError'
  );
}

function finish(
  setup: ExchangeSetup,
  plan: ExchangePlan,
  span: Span,
  outcome: ExchangeOutcome,
  error?: unknown,
): void {
  try {
    plan.record(outcome);
  } catch (failure) {
    setup.internalError();
    diag.debug('stacklight: recording client metrics failed', failure);
  }
  try {
    if (outcome.status !== undefined) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, outcome.status);
      // semconv: for client spans every 4xx and 5xx is an error.
      if (outcome.status >= 400) {
        span.setAttribute(ATTR_ERROR_TYPE, String(outcome.status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    } else {
      span.setAttribute(ATTR_ERROR_TYPE, outcome.failure ?? 'network');
      if (error !== undefined) span.recordException(exceptionOf(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
    }
    span.end();
  } catch (failure) {
    setup.internalError();
    diag.debug('stacklight: ending a client span failed', failure);
  }
}
