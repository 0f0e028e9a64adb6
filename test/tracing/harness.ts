import { context, trace, type Tracer } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';

/** Well-known ids from the W3C spec's examples. */
export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SPAN_ID = '00f067aa0ba902b7';
export const TRACEPARENT = `00-${TRACE_ID}-${SPAN_ID}-01`;

export interface TracingHarness {
  exporter: InMemorySpanExporter;
  provider: NodeTracerProvider;
  tracer: Tracer;
  teardown(): Promise<void>;
}

/**
 * A real SDK pipeline (in-memory exporter, simple processor) registered
 * globally with an AsyncLocalStorage context manager, so async nesting works.
 * No propagator is registered: the code under test must not need one.
 */
export function setupTracing(): TracingHarness {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register({ propagator: null });
  return {
    exporter,
    provider,
    tracer: provider.getTracer('test'),
    async teardown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
