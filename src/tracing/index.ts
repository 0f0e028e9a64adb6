/**
 * Internal barrel of the tracing folder. `src/index.ts` picks what becomes
 * public from here; everything is listed by name.
 */
export {
  formatTraceParent,
  isValidSpanId,
  isValidTraceId,
  parseTraceParent,
} from './traceparent.js';
export type { TraceParent } from './traceparent.js';

export {
  isValidTraceStateKey,
  isValidTraceStateValue,
  parseTraceState,
  TRACESTATE_MAX_INPUT_LENGTH,
  TRACESTATE_MAX_LENGTH,
  TRACESTATE_MAX_MEMBERS,
  TraceStateList,
} from './tracestate.js';

export {
  StrictW3CTraceContextPropagator,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
} from './propagator.js';

export {
  contextFromCarrier,
  createTraceCarriers,
  createW3CPropagator,
  extractContext,
  injectContext,
  TRACE_CARRIER_KEY,
  traceCarrier,
} from './carriers.js';
export type {
  CarrierKind,
  HeadersLike,
  TraceCarrier,
  TraceCarrierHolder,
  TraceCarriers,
} from './carriers.js';

export { enqueueSpanName, httpServerSpanName, SPAN_NAMES } from './span-names.js';
export type { SpanNameDefinition, SpanNameId, SpanNameKind, SpanStack } from './span-names.js';

export { createScrubbingSpanProcessor } from './span-scrub.js';
export type { ScrubbingSpanProcessorOptions } from './span-scrub.js';
export { TRACER_NAME, withSpan } from './with-span.js';
export type { WithSpanOptions } from './with-span.js';
