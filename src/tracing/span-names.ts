import { KNOWN_HTTP_METHODS } from '../http-methods.js';
/**
 * The span-name catalog: the observability spec's key spans ("Tracing"
 * section of spec/09-observability.md), as data. Span helpers, instrumentation
 * and the docs page are derived from this one table.
 *
 * Names are the spec's, verbatim. Two are templates:
 *
 * - HTTP server spans are `HTTP <route>` (spec form, e.g. `HTTP /trades/import`),
 *   not OpenTelemetry semconv's `{method} {route}`: the spec's dashboards and
 *   trace queries use its form. The route is always the template
 *   (`/users/:id`), never the raw path, so names stay low-cardinality; the
 *   method goes in the `http.request.method` attribute. See {@link httpServerSpanName}.
 * - Producer spans are `enqueue <queue>` (spec: `enqueue q_import`). See {@link enqueueSpanName}.
 */

/** Stacks of the product, as the spec numbers them (S1 Web UI emits no server spans). */
export type SpanStack = 'S2' | 'S3' | 'S4' | 'S5';

/** The OpenTelemetry span kind the span is started with. */
export type SpanNameKind = 'server' | 'client' | 'producer' | 'consumer' | 'internal';

/** One catalog entry. */
export interface SpanNameDefinition {
  /** The span name, or for a template the pattern with `<placeholder>`s. */
  readonly name: string;
  /** True when `name` is a pattern filled in by a function of this module. */
  readonly template: boolean;
  /** The stack the spec lists the span under. */
  readonly stack: SpanStack;
  readonly kind: SpanNameKind;
  /** One sentence for the docs page. */
  readonly description: string;
}

const catalog = {
  httpServer: {
    name: 'HTTP <route>',
    template: true,
    stack: 'S2',
    kind: 'server',
    description:
      'Inbound HTTP request, named by route template (HTTP /trades/import); every HTTP service emits it, the spec lists it under Edge.',
  },
  wsSend: {
    name: 'WS send',
    template: false,
    stack: 'S2',
    kind: 'producer',
    description:
      'Edge pushes one event to a WebSocket client; linked (not parented) to the trace that produced the event.',
  },
  sseSend: {
    name: 'SSE send',
    template: false,
    stack: 'S3',
    kind: 'producer',
    description:
      'Core pushes one event to an SSE subscriber; linked to the trace that produced the event.',
  },
  enqueue: {
    name: 'enqueue <queue>',
    template: true,
    stack: 'S3',
    kind: 'producer',
    description: 'Core adds a job to a BullMQ queue; the job data carries the trace context.',
  },
  enqueueImport: {
    name: 'enqueue q_import',
    template: false,
    stack: 'S3',
    kind: 'producer',
    description: 'Core enqueues a trade import on q_import.',
  },
  process: {
    name: 'process <queue>',
    template: true,
    stack: 'S4',
    kind: 'consumer',
    description:
      'A worker runs one attempt of a job; child of the enqueue span (parent mode) or linked to it (link mode).',
  },
  outboxAppend: {
    name: 'outbox.append',
    template: false,
    stack: 'S3',
    kind: 'internal',
    description: 'Core writes an event to the outbox in the same transaction as the change.',
  },
  eventsReplay: {
    name: 'events.replay',
    template: false,
    stack: 'S3',
    kind: 'client',
    description:
      'Replay of missed outbox events from /internal/events/subscribe: opened by the SSE subscriber when it reconnects with Last-Event-ID, covering what Core replays.',
  },
  importPage: {
    name: 'import.page',
    template: false,
    stack: 'S4',
    kind: 'internal',
    description: 'Import worker fetches and stores one page of trades from the broker.',
  },
  scoreTrade: {
    name: 'score.trade',
    template: false,
    stack: 'S4',
    kind: 'internal',
    description: 'Bias worker scores one trade.',
  },
  simRun: {
    name: 'sim.run',
    template: false,
    stack: 'S4',
    kind: 'internal',
    description: 'Simulation worker runs one simulation.',
  },
  digestAggregate: {
    name: 'digest.aggregate',
    template: false,
    stack: 'S4',
    kind: 'internal',
    description: 'Digest worker aggregates a user’s week.',
  },
  indicators: {
    name: 'indicators',
    template: false,
    stack: 'S5',
    kind: 'internal',
    description:
      'AI Coach computes indicators (/v1/indicators); the AI Coach client names its client span the same.',
  },
  biasScore: {
    name: 'bias.score',
    template: false,
    stack: 'S5',
    kind: 'internal',
    description:
      'AI Coach scores behavioural bias (/v1/bias/score); the AI Coach client names its client span the same.',
  },
  nlgReflect: {
    name: 'nlg.reflect',
    template: false,
    stack: 'S5',
    kind: 'internal',
    description:
      'AI Coach generates a reflection text (/v1/nlg/reflect); the AI Coach client names its client span the same.',
  },
} as const satisfies Record<string, SpanNameDefinition>;

/** Identifier of a catalog entry. */
export type SpanNameId = keyof typeof catalog;

for (const entry of Object.values(catalog)) Object.freeze(entry);

/**
 * Every span name stacklight knows, keyed by identifier, frozen. Use
 * `SPAN_NAMES.outboxAppend.name` for a fixed name; template entries
 * (`template: true`) document the pattern, their names come from
 * {@link httpServerSpanName} and {@link enqueueSpanName}.
 *
 * @example
 * withSpan(SPAN_NAMES.outboxAppend.name, { 'event.type': type }, () => append(row));
 * Object.values(SPAN_NAMES).filter((s) => s.stack === 'S4'); // the worker spans
 */
export const SPAN_NAMES: Readonly<typeof catalog> = Object.freeze(catalog);

/** Methods named in span names; anything else is folded (bounded cardinality). */
const KNOWN_METHODS = KNOWN_HTTP_METHODS;

/**
 * The name of an HTTP server span, in the spec's `HTTP <route>` form. With no
 * route template (unmatched request, 404) it is `HTTP <METHOD>`, or just
 * `HTTP` for a method outside the standard set, so that neither raw paths nor
 * made-up methods can blow up span-name cardinality.
 *
 * @example
 * httpServerSpanName('POST', '/trades/import'); // 'HTTP /trades/import'
 * httpServerSpanName('get', undefined);         // 'HTTP GET'
 * httpServerSpanName('BREW', '');               // 'HTTP'
 */
export function httpServerSpanName(method: string | undefined, routeTemplate?: string): string {
  if (typeof routeTemplate === 'string' && routeTemplate.length > 0) return 'HTTP ' + routeTemplate;
  const upper = typeof method === 'string' ? method.toUpperCase() : '';
  return KNOWN_METHODS.has(upper) ? 'HTTP ' + upper : 'HTTP';
}

/**
 * The name of the producer span that adds a job to `queue`.
 *
 * @example
 * enqueueSpanName('q_import'); // 'enqueue q_import' (=== SPAN_NAMES.enqueueImport.name)
 */
export function enqueueSpanName(queue: string): string {
  return typeof queue === 'string' && queue.length > 0 ? 'enqueue ' + queue : 'enqueue';
}
