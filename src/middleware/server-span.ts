import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  context as otelContext,
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
  type Link,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { extractContext } from '../tracing/carriers.js';
import { OWNED_ATTRIBUTES, type OwnedSpanOptions } from '../tracing/light-tracer.js';
import { LIGHT_TRACER, type WithLightTracer } from '../tracing/provider.js';
import { contextWithSpan } from '../tracing/span-context.js';
import { httpServerSpanName } from '../tracing/span-names.js';
import { codeLabel, OTHER_METHOD, UNMATCHED_ROUTE } from './conventions.js';
import type { RequestRecord, RouteDecision } from './record.js';
import { exceptionOf } from '../util/errors.js';

/**
 * The server span of a request, per the OpenTelemetry HTTP semantic
 * conventions but conservative about personal data: `http.request.method`
 * (+ `http.request.method_original` for `_OTHER`), `http.route`,
 * `http.response.status_code`, `url.scheme`, `network.protocol.version`, and
 * `error.type` on failures. Never `url.full`, `url.path`, `url.query`,
 * headers, `user_agent.original` or `client.address`: they can hold user
 * identifiers, e-mail addresses and tokens.
 */

/** Span names of unmatched requests, per method label (`HTTP GET`, …). */
const UNMATCHED_SPAN_NAMES: Record<string, string> = Object.create(null) as Record<string, string>;

function unmatchedSpanName(method: string): string {
  return (UNMATCHED_SPAN_NAMES[method] ??= httpServerSpanName(
    method === OTHER_METHOD ? '' : method,
    undefined,
  ));
}

/** What the server span does with the caller's trace context (`tracing.incoming`). */
export type IncomingMode = 'continue' | 'restart' | 'ignore';

/**
 * The caller's trace context from `traceparent`/`tracestate`/`baggage`, on
 * top of the root context (never the ambient one, which could belong to
 * whatever ran before on this socket). No header, no parsing. In `restart`
 * and `ignore` modes the caller's context is not continued: the root context.
 */
export function parentContext(
  headers: IncomingHttpHeaders,
  incoming: IncomingMode = 'continue',
): Context {
  if (incoming !== 'continue') return ROOT_CONTEXT;
  return headers.traceparent === undefined && headers.baggage === undefined
    ? ROOT_CONTEXT
    : extractContext(headers, 'http', ROOT_CONTEXT);
}

/**
 * The caller's span context, for the link of a restarted trace; `undefined`
 * without a valid `traceparent`.
 */
function callerLink(headers: IncomingHttpHeaders): Link[] | undefined {
  if (headers.traceparent === undefined) return undefined;
  const caller = trace.getSpanContext(extractContext(headers, 'http', ROOT_CONTEXT));
  return caller !== undefined && isSpanContextValid(caller) ? [{ context: caller }] : undefined;
}

/**
 * Starts the SERVER span; returns it with the context that has it active.
 * With stacklight's light tracer on the tracer (no user span processors),
 * a light span: the SDK's behaviour at a fraction of the cost (see
 * tracing/light-span.ts); a span the sampler drops is the SDK's
 * non-recording span either way.
 */
export function startServerSpan(
  tracer: Tracer,
  req: IncomingMessage,
  headers: IncomingHttpHeaders,
  method: string,
  decision: RouteDecision | undefined,
  incoming: IncomingMode = 'continue',
): { span: Span; context: Context } {
  const parent = parentContext(headers, incoming);
  const light = (tracer as WithLightTracer)[LIGHT_TRACER];
  // A span the sampler surely drops: its ids only, no attributes built.
  const dropped = light?.dropped(parent);
  if (dropped !== undefined) return { span: dropped, context: contextWithSpan(parent, dropped) };
  // Given at creation so that samplers can use them (semconv asks for it).
  // Strings only, and handed over to the tracer (OWNED_ATTRIBUTES).
  const attributes: Attributes = {
    'http.request.method': method,
    'url.scheme':
      (req.socket as { encrypted?: boolean } | null)?.encrypted === true ? 'https' : 'http',
    'network.protocol.version': req.httpVersion,
  };
  if (method === OTHER_METHOD && req.method !== undefined)
    attributes['http.request.method_original'] = req.method;
  const route = decision?.template;
  if (route !== undefined && route !== UNMATCHED_ROUTE) attributes['http.route'] = route;
  const options: OwnedSpanOptions = { kind: SpanKind.SERVER, attributes, [OWNED_ATTRIBUTES]: true };
  // `restart`: a new root that links to the caller's span, so the journey can
  // still be followed while the caller chooses neither ids nor sampling.
  const links = incoming === 'restart' ? callerLink(headers) : undefined;
  if (links !== undefined) options.links = links;
  const span = (light ?? tracer).startSpan(
    decision?.spanName ?? unmatchedSpanName(method),
    options,
    parent,
  );
  return { span, context: contextWithSpan(parent, span) };
}

/**
 * The SERVER span an HTTP instrumentation (the OpenTelemetry Node SDK's, or
 * one in `tracing.instrumentations`) already opened for this request, active
 * when the framework runs: stacklight enriches it (route, name, error)
 * instead of opening a second SERVER span. `undefined` when there is none.
 */
export function borrowServerSpan(
  decision: RouteDecision | undefined,
): { span: Span; context: Context } | undefined {
  const active = otelContext.active();
  // The HTTP instrumentation keeps its SERVER span in the request context's
  // RPC metadata (framework instrumentations, e.g. Express's, may have made
  // their own span active since); else the active span, when it is a SERVER one.
  const meta = getRPCMetadata(active);
  let span: Span | undefined = meta?.type === RPCType.HTTP ? meta.span : undefined;
  if (span === undefined) {
    const current = trace.getSpan(active);
    if (current === undefined || (current as { kind?: unknown }).kind !== SpanKind.SERVER)
      return undefined;
    span = current;
  }
  if (span.isRecording() && decision?.spanName !== undefined) {
    span.updateName(decision.spanName);
    if (decision.template !== UNMATCHED_ROUTE) {
      span.setAttribute('http.route', decision.template);
      // The instrumentation names its span from this when it ends it.
      if (meta !== undefined) meta.route = decision.template;
    }
  }
  return { span, context: active };
}

function statusMessageOf(error: unknown): string | undefined {
  try {
    if (typeof error === 'string') return error;
    const m = (error as { message?: unknown } | null)?.message;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

function errorTypeOf(error: unknown, status: number): string {
  try {
    const name = (error as { name?: unknown } | null)?.name;
    if (typeof name === 'string' && name !== '') return name;
  } catch {
    // fall through
  }
  return codeLabel(status);
}

/**
 * Completes and ends the server span. Spans that are not recorded (not
 * sampled) get no attribute work at all. 5xx: status ERROR (with the error's
 * message) and the exception recorded; 4xx and aborts keep status UNSET, as
 * semconv asks for server spans.
 */
export function endServerSpan(
  rec: RequestRecord,
  span: Span,
  d: RouteDecision,
  status: number,
): void {
  if (span.isRecording()) {
    if (rec.spanBorrowed) {
      // Named, ended and given its status code by the instrumentation that
      // opened it: stacklight adds the route and the error.
      if (!rec.namedAtStart && d.spanName !== undefined) {
        span.updateName(d.spanName);
        span.setAttribute('http.route', d.template);
      }
      if (status >= 500 && rec.hasError) {
        span.recordException(exceptionOf(rec.error));
        span.setAttribute('error.type', errorTypeOf(rec.error, status));
      }
      return;
    }
    if (!rec.namedAtStart && d.spanName !== undefined) {
      // Express: the route is only known now.
      span.updateName(d.spanName);
      span.setAttribute('http.route', d.template);
    }
    if (rec.aborted) span.setAttribute('error.type', 'aborted');
    else span.setAttribute('http.response.status_code', status);
    if (status >= 500) {
      span.setAttribute(
        'error.type',
        rec.hasError ? errorTypeOf(rec.error, status) : codeLabel(status),
      );
      if (rec.hasError) span.recordException(exceptionOf(rec.error));
      const message = rec.hasError ? statusMessageOf(rec.error) : undefined;
      span.setStatus(
        message === undefined
          ? { code: SpanStatusCode.ERROR }
          : { code: SpanStatusCode.ERROR, message },
      );
    }
  }
  if (!rec.spanBorrowed) span.end();
}
