import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { otelApiGuard, SPAN_KEY } from '../internals/otel-api.js';

/**
 * A context that is `parent` plus one value. OpenTelemetry's own context
 * copies its parent's whole `Map` and makes three closures for every
 * `setValue`; the server span's context is made once per request and only
 * read afterwards, so it is one small object here. Anything derived from it
 * (`setValue`, `deleteValue`) is an ordinary context again.
 */
class ContextWithValue implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: symbol,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    return key === this.key ? this.value : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return this.parent.setValue(this.key, this.value).setValue(key, value);
  }

  deleteValue(key: symbol): Context {
    return key === this.key
      ? this.parent.deleteValue(key)
      : this.parent.setValue(this.key, this.value).deleteValue(key);
  }
}

/**
 * Whether the API's private span key may be used (internals/otel-api.ts):
 * a tested API version that reads the span back from it (checked once).
 */
export function spanKeyUsable(fast: boolean = otelApiGuard().fast): boolean {
  if (!fast) return false;
  const probe = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  return trace.getSpan(new ContextWithValue(ROOT_CONTEXT, SPAN_KEY, probe)) === probe;
}

const usable = spanKeyUsable();

/**
 * `trace.setSpan(parent, span)`, in one small object (see {@link ContextWithValue})
 * when `fast` (default: the API passed its guard).
 */
export function contextWithSpan(parent: Context, span: Span, fast: boolean = usable): Context {
  return fast ? new ContextWithValue(parent, SPAN_KEY, span) : trace.setSpan(parent, span);
}
