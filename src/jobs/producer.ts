import {
  context,
  SpanKind,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { Telemetry } from '../types.js';
import {
  enqueueSpanName,
  TRACE_CARRIER_KEY,
  traceCarrier,
  type TraceCarrier,
} from '../tracing/index.js';
import { isThenable } from '../util/async.js';
import { messageOf } from '../util/errors.js';
import { jobsRuntime, warnIfBullMQTelemetry, type JobsRuntime } from './runtime.js';
import {
  endSpan,
  endSpanWithError,
  JOB_ATTRIBUTES,
  MESSAGING_SYSTEM,
  redactAttributes,
} from './spans.js';
import type { FlowProducerLike, QueueLike } from './types.js';

/** Marks an instance as instrumented, so that a second call changes nothing. */
const INSTRUMENTED = Symbol.for('stacklight.bullmq.instrumented');

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;
type Carry = (data: unknown) => unknown;

interface BulkEntry {
  data?: unknown;
}

interface FlowNode {
  queueName?: unknown;
  data?: unknown;
  children?: unknown;
}

/**
 * Instruments the producer side of a BullMQ `Queue` (5.22+ or 6): `add` and
 * `addBulk` open an `enqueue <queue>` span (kind PRODUCER) and write its
 * trace context into the job data under `_trace`, so that the worker
 * continues the trace. Returns the same queue.
 *
 * The caller's data object is never mutated: a job's data is a shallow copy
 * with `_trace` added. Data that is not a plain object (a string, an array,
 * a class instance) is sent unchanged, and the job starts a new trace.
 * A failing `add` (Redis down) rejects exactly as without stacklight; its
 * span records the error.
 *
 * @example
 * ```ts
 * import { Queue } from 'bullmq';
 * import { instrumentQueue } from 'stacklight/bullmq';
 *
 * const imports = instrumentQueue(telemetry, new Queue('q_import', { connection }));
 * await imports.add('import.trades', { userId, broker: 'binance' }); // carries _trace
 * ```
 */
export function instrumentQueue<Q extends QueueLike>(telemetry: Telemetry, queue: Q): Q {
  if (isInstrumented(queue)) return queue;
  const rt = jobsRuntime(telemetry);
  warnIfBullMQTelemetry(rt, queue, `queue "${queue.name}"`);
  const add = queue.add as unknown as AnyFn;
  const addBulk = queue.addBulk as unknown as AnyFn;

  function stacklightAdd(this: unknown, name: unknown, data: unknown, opts: unknown): unknown {
    return produce(
      rt,
      queue.name,
      'add',
      undefined,
      (carry) => add.call(this, name, carry(data), opts),
      jobIdOf,
    );
  }

  function stacklightAddBulk(this: unknown, jobs: unknown): unknown {
    if (!Array.isArray(jobs)) return addBulk.call(this, jobs);
    return produce(rt, queue.name, 'addBulk', jobs.length, (carry) =>
      addBulk.call(
        this,
        jobs.map((j: unknown) =>
          j !== null && typeof j === 'object'
            ? { ...(j as BulkEntry), data: carry((j as BulkEntry).data) }
            : j,
        ),
      ),
    );
  }

  patch(queue, { add: stacklightAdd, addBulk: stacklightAddBulk });
  return queue;
}

/**
 * Instruments a BullMQ `FlowProducer`: `add` and `addBulk` open one
 * `enqueue <queue>` span (the root job's queue) and write its trace context
 * into the data of every job of the flow, children included. Returns the
 * same flow producer.
 *
 * @example
 * ```ts
 * const flows = instrumentFlowProducer(telemetry, new FlowProducer({ connection }));
 * await flows.add({ name: 'digest.weekly', queueName: 'q_digest', children: [...] });
 * ```
 */
export function instrumentFlowProducer<F extends FlowProducerLike>(
  telemetry: Telemetry,
  flowProducer: F,
): F {
  if (isInstrumented(flowProducer)) return flowProducer;
  const rt = jobsRuntime(telemetry);
  warnIfBullMQTelemetry(rt, flowProducer, 'a flow producer');
  const add = flowProducer.add as unknown as AnyFn;
  const addBulk = flowProducer.addBulk as unknown as AnyFn;

  function stacklightFlowAdd(this: unknown, flow: unknown, opts: unknown): unknown {
    if (flow === null || typeof flow !== 'object') return add.call(this, flow, opts);
    const queueName = stringOr((flow as FlowNode).queueName, '');
    return produce(rt, queueName, 'addFlow', countNodes(flow), (carry) =>
      add.call(this, carryFlow(flow, carry), opts),
    );
  }

  function stacklightFlowAddBulk(this: unknown, flows: unknown): unknown {
    if (!Array.isArray(flows)) return addBulk.call(this, flows);
    const queues = new Set(
      flows.map((f: unknown) => stringOr((f as FlowNode | null)?.queueName, '')),
    );
    const queueName = queues.size === 1 ? [...queues][0]! : '';
    const count = flows.reduce((n: number, f: unknown) => n + countNodes(f), 0);
    return produce(rt, queueName, 'addBulkFlows', count, (carry) =>
      addBulk.call(
        this,
        flows.map((f: unknown) => carryFlow(f, carry)),
      ),
    );
  }

  patch(flowProducer, { add: stacklightFlowAdd, addBulk: stacklightFlowAddBulk });
  return flowProducer;
}

/**
 * Runs `send` inside a new `enqueue <queue>` span and hands it a function
 * that adds the span's trace context to one job's data. Telemetry failures
 * cost the span, never the enqueue; the enqueue's own failure is recorded
 * and passed on unchanged.
 */
function produce<T>(
  rt: JobsRuntime,
  queueName: string,
  operation: string,
  batch: number | undefined,
  send: (carry: Carry) => T,
  after?: (span: Span, result: unknown) => void,
): T {
  let span: Span;
  let ctx: Context;
  let carrier: TraceCarrier | undefined;
  try {
    const parent = context.active();
    const attributes: Attributes = {
      [JOB_ATTRIBUTES.system]: MESSAGING_SYSTEM,
      [JOB_ATTRIBUTES.destination]: queueName,
      [JOB_ATTRIBUTES.operationType]: 'send',
      [JOB_ATTRIBUTES.operationName]: operation,
    };
    if (batch !== undefined) attributes[JOB_ATTRIBUTES.batchCount] = batch;
    span = rt.telemetry.tracer.startSpan(
      enqueueSpanName(queueName),
      { kind: SpanKind.PRODUCER, attributes: redactAttributes(rt.redactor, attributes) },
      parent,
    );
    ctx = trace.setSpan(parent, span);
    carrier = traceCarrier(ctx);
  } catch (err) {
    rt.fault('jobs', 'jobs:producer', `tracing an enqueue failed: ${messageOf(err)}`);
    return send((data) => data);
  }
  const carry: Carry = (data) => withCarrier(data, carrier);

  let result: T;
  try {
    result = context.with(ctx, () => send(carry));
  } catch (err) {
    endSpanWithError(span, rt.redactor, err);
    throw err;
  }
  if (!isThenable(result)) {
    endSpan(span);
    return result;
  }
  return result.then(
    (value: unknown) => {
      try {
        after?.(span, value);
      } catch {
        // An odd return value costs an attribute only.
      }
      endSpan(span);
      return value;
    },
    (err: unknown) => {
      endSpanWithError(span, rt.redactor, err);
      throw err;
    },
  ) as T;
}

function jobIdOf(span: Span, job: unknown): void {
  const id = (job as { id?: unknown } | null)?.id;
  if (typeof id === 'string' || typeof id === 'number')
    span.setAttribute(JOB_ATTRIBUTES.messageId, String(id));
}

/**
 * `data` with `_trace` set to `carrier`: a shallow copy of a plain object;
 * anything else unchanged. Without a carrier (no valid context, tracing
 * off) a `_trace` already in the data is dropped from the copy, so that
 * re-enqueuing another job's data never sends its stale context on.
 */
function withCarrier(data: unknown, carrier: TraceCarrier | undefined): unknown {
  if (!isPlainObject(data)) return data;
  if (carrier !== undefined) return { ...data, [TRACE_CARRIER_KEY]: { ...carrier } };
  if (!Object.prototype.hasOwnProperty.call(data, TRACE_CARRIER_KEY)) return data;
  const copy = { ...data };
  delete copy[TRACE_CARRIER_KEY];
  return copy;
}

function carryFlow(node: unknown, carry: Carry, depth = 0): unknown {
  if (node === null || typeof node !== 'object' || depth > 100) return node;
  const n = node as FlowNode;
  const out: FlowNode = { ...n, data: carry(n.data) };
  if (Array.isArray(n.children))
    out.children = n.children.map((c: unknown) => carryFlow(c, carry, depth + 1));
  return out;
}

function countNodes(node: unknown, depth = 0): number {
  if (node === null || typeof node !== 'object' || depth > 100) return 0;
  const children = (node as FlowNode).children;
  let n = 1;
  if (Array.isArray(children)) for (const c of children) n += countNodes(c, depth + 1);
  return n;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function isInstrumented(target: object): boolean {
  return (target as Record<symbol, unknown>)[INSTRUMENTED] === true;
}

/** Installs the wrappers as own, non-enumerable properties of the instance. */
function patch(target: object, methods: Record<string, AnyFn>): void {
  for (const [name, fn] of Object.entries(methods)) {
    Object.defineProperty(target, name, {
      value: fn,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  Object.defineProperty(target, INSTRUMENTED, { value: true, configurable: true });
}
