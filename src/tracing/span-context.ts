import {
  INVALID_SPAN_CONTEXT,
  ROOT_CONTEXT,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';

/** OpenTelemetry's context key of the active span (`createContextKey` is `Symbol.for`). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

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

/** Whether the installed API reads the span under that key (checked once). */
const usable = ((): boolean => {
  const probe = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  return trace.getSpan(new ContextWithValue(ROOT_CONTEXT, SPAN_KEY, probe)) === probe;
})();

/** `trace.setSpan(parent, span)`, in one small object (see {@link ContextWithValue}). */
export function contextWithSpan(parent: Context, span: Span): Context {
  return usable ? new ContextWithValue(parent, SPAN_KEY, span) : trace.setSpan(parent, span);
}
