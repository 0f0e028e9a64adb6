/**
 * Assertions for service authors' tests. Framework-neutral: each throws
 * Node's `AssertionError` with `expected` and `actual`, which vitest, jest
 * and `node:test` all report as a test failure with a diff.
 */
import { SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Telemetry } from '../types.js';
import { parseExposition } from '../lint/exposition.js';
import { createScrubber } from '../logging/scrub.js';
import { createSecretKeyMatcher } from '../logging/secret-keys.js';
import { declaredFieldSpec } from '../logging/field-rules.js';
import { LOG_FIELDS, TOP_LEVEL_FIELDS, type LogFieldSpec } from '../logging/schema.js';
import { TRACE_CARRIER_KEY } from '../tracing/carriers.js';
import { parseTraceParent } from '../tracing/traceparent.js';
import { fail } from './assertion-error.js';
import type { CapturedLogLine, TestTelemetry } from './telemetry.js';

/** Labels the registry adds to every series; not part of a metric's own labels. */
const REGISTRY_LABELS = new Set(['service', 'env', 'region']);

/**
 * Asserts that metric `name` has a series with exactly `labels` (its own
 * labels: `service`, `env`, `region` and a histogram's `le` are left out;
 * values compare as strings). Returns the series' value (a histogram's
 * count).
 *
 * @example
 * await assertMetric(t, 'orders_created_total', { channel: 'web' }); // → 1
 */
export async function assertMetric(
  source: TestTelemetry | Telemetry,
  name: string,
  labels: Readonly<Record<string, string | number>> = {},
): Promise<number> {
  const text = await source.metricsText();
  const parsed = parseExposition(text);
  const families = parsed.families.filter((f) => f.name === name || `${f.name}_total` === name);
  if (families.length === 0) {
    fail(
      `no metric named "${name}" in the exposition`,
      name,
      parsed.families.map((f) => f.name),
      'includes',
    );
  }
  const want = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
  const wantKey = JSON.stringify(Object.entries(want).sort());
  const seen: Record<string, string>[] = [];
  const seenKeys = new Set<string>();
  for (const f of families) {
    const valueName =
      f.type === 'histogram' || f.type === 'summary' ? `${f.name}_count` : undefined;
    for (const s of f.samples) {
      if (valueName !== undefined && s.name !== valueName) continue;
      const own = Object.fromEntries(
        Object.entries(s.labels).filter(([k]) => !REGISTRY_LABELS.has(k) && k !== 'le'),
      );
      const key = JSON.stringify(Object.entries(own).sort());
      if (key === wantKey) return s.value;
      if (!seenKeys.has(key)) {
        seenKeys.add(key);
        seen.push(own);
      }
    }
  }
  return fail(
    `metric "${name}" has no series with exactly these labels`,
    want,
    seen.length === 1 ? seen[0] : seen,
    'deepStrictEqual',
  );
}

/** Options of {@link assertLogLines}. */
export interface LogLineOptions {
  /**
   * More field names allowed besides the schema's, of any type. The fields
   * declared in `logging.fields` are allowed (and checked by type) without
   * being listed here.
   */
  fields?: readonly string[];
  /** More keys to treat as secret (as given to `logging.redactKeys`). */
  secretKeys?: readonly string[];
}

/**
 * Asserts that every captured log line matches the log line schema (required
 * fields, types, allowed values, no unknown top-level field) and carries no
 * secret: no value that the redactor would still change (an e-mail address,
 * a token, a credential) and no secret-like key with a value other than
 * `[REDACTED]`. Returns the lines.
 */
export function assertLogLines(
  source: TestTelemetry,
  options: LogLineOptions = {},
): CapturedLogLine[] {
  const lines = source.logLines();
  const problems: string[] = [];
  const own = source.telemetry.config.logging.fields;
  const declared = new Set(options.fields ?? []);
  const isSecretKey = createSecretKeyMatcher(options.secretKeys ?? []);
  let kinds: string[] = [];
  const scrub = createScrubber({
    isSecretKey,
    maxStringLength: Number.MAX_SAFE_INTEGER,
    onRedaction: (k) => kinds.push(k),
  });
  lines.forEach((line, i) => {
    const at = `line ${i + 1}`;
    for (const f of TOP_LEVEL_FIELDS) {
      if (LOG_FIELDS[f].required && !(f in line))
        problems.push(`${at}: required field "${f}" is missing`);
    }
    for (const [k, v] of Object.entries(line)) {
      const ownType = Object.hasOwn(own, k) ? own[k] : undefined;
      const spec =
        (LOG_FIELDS as Record<string, LogFieldSpec>)[k] ??
        (ownType === undefined ? undefined : declaredFieldSpec(ownType));
      if (spec === undefined || k.includes('.')) {
        if (!declared.has(k)) problems.push(`${at}: field "${k}" is not in the log schema`);
      } else {
        const why = typeProblem(spec, v);
        if (why !== undefined) problems.push(`${at}: field "${k}" ${why}`);
        if (
          k === 'error' &&
          (typeof v !== 'object' ||
            v === null ||
            typeof (v as Record<string, unknown>).message !== 'string')
        )
          problems.push(`${at}: field "error" has no message`);
      }
    }
    walk(line, (key, value, path) => {
      if (key !== undefined && isSecretKey(key) && value !== '[REDACTED]') {
        problems.push(`${at}: secret-like key "${path}" is not redacted`);
        return;
      }
      if (typeof value === 'string') {
        kinds = [];
        scrub(value);
        const leak = kinds.find((k) => k !== 'truncated');
        if (leak !== undefined)
          problems.push(
            `${at}: "${path}" holds ${leak === 'email' ? 'an e-mail address' : `a secret (${leak})`}`,
          );
      }
    });
  });
  if (problems.length > 0) {
    fail(
      `${problems.length} problem(s) in ${lines.length} captured log line(s): ${problems.slice(0, 5).join('; ')}`,
      [],
      problems,
      'deepStrictEqual',
    );
  }
  return lines;
}

function typeProblem(spec: LogFieldSpec, v: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string') return `is ${typeof v}, not a string`;
      if (spec.enum !== undefined && !spec.enum.includes(v))
        return `is "${v}", not one of ${spec.enum.join(', ')}`;
      if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(v))
        return `does not match ${spec.pattern}`;
      return undefined;
    case 'integer':
    case 'number':
      if (typeof v !== 'number' || (spec.type === 'integer' && !Number.isInteger(v)))
        return `is ${JSON.stringify(v)}, not ${spec.type === 'integer' ? 'an integer' : 'a number'}`;
      if (spec.minimum !== undefined && v < spec.minimum) return `is below ${spec.minimum}`;
      if (spec.maximum !== undefined && v > spec.maximum) return `is above ${spec.maximum}`;
      return undefined;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `is ${typeof v}, not a boolean`;
    case 'array':
      return Array.isArray(v) ? undefined : 'is not an array';
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v)
        ? undefined
        : 'is not an object';
  }
}

function walk(
  value: unknown,
  visit: (key: string | undefined, value: unknown, path: string) => void,
  key?: string,
  path = '',
): void {
  visit(key, value, path);
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value)) walk(v, visit, k, path ? `${path}.${k}` : k);
}

/** Options of {@link assertTraceparent}. */
export interface TraceparentOptions {
  /** The trace the carrier must belong to. @default the trace of the active span */
  traceId?: string;
  /** Or: the span whose trace the carrier must belong to. */
  span?: Pick<ReadableSpan, 'spanContext'>;
}

/**
 * Asserts that an outgoing request, job or event carried a `traceparent` of
 * the current trace (or of `options.traceId` / `options.span`). `carrier` is
 * what left the process: request headers (a plain object or `Headers`), job
 * data or an event envelope holding a trace carrier (`_trace`), or the
 * carrier itself. Returns the parsed `traceparent`.
 */
export function assertTraceparent(
  carrier: unknown,
  options: TraceparentOptions = {},
): { traceId: string; spanId: string; sampled: boolean } {
  const expected =
    options.traceId ??
    options.span?.spanContext().traceId ??
    trace.getActiveSpan()?.spanContext().traceId;
  if (expected === undefined) {
    fail(
      'no active span to compare with: call it inside the traced code, or pass { traceId } or { span }',
      'an active span',
      undefined,
      'notStrictEqual',
    );
  }
  const raw = traceparentOf(carrier);
  const parsed = parseTraceParent(raw);
  if (parsed === undefined) {
    fail(
      raw === undefined
        ? 'the carrier has no traceparent'
        : `the carrier's traceparent is not valid W3C: ${JSON.stringify(raw)}`,
      `00-${expected}-<span id>-<flags>`,
      raw ?? carrier,
      'strictEqual',
    );
  }
  if (parsed.traceId !== expected) {
    fail('the traceparent belongs to another trace', expected, parsed.traceId, 'strictEqual');
  }
  return { traceId: parsed.traceId, spanId: parsed.spanId, sampled: (parsed.traceFlags & 1) === 1 };
}

function traceparentOf(carrier: unknown): string | undefined {
  if (typeof carrier !== 'object' || carrier === null) return undefined;
  const c = carrier as Record<string, unknown> & { get?: unknown };
  if (typeof c.get === 'function') {
    const v = (c.get as (n: string) => unknown).call(c, 'traceparent');
    return typeof v === 'string' ? v : undefined;
  }
  const holder = c[TRACE_CARRIER_KEY];
  if (typeof holder === 'object' && holder !== null) return traceparentOf(holder);
  for (const [k, v] of Object.entries(c)) {
    if (k.toLowerCase() === 'traceparent') return Array.isArray(v) ? String(v[0]) : String(v);
  }
  return undefined;
}

/**
 * Asserts that exactly one SERVER span named `name` was captured (`HTTP
 * /users/:id`, say) and returns it.
 */
export function assertOneServerSpan(source: TestTelemetry, name: string): ReadableSpan {
  const server = source.spans().filter((s) => s.kind === SpanKind.SERVER);
  const named = server.filter((s) => s.name === name);
  if (named.length !== 1) {
    fail(
      `expected one SERVER span named "${name}", found ${named.length}`,
      [name],
      server.map((s) => s.name),
      'deepStrictEqual',
    );
  }
  return named[0]!;
}
