import type { Redactor } from './redact.js';

/** The `error` object of a log line (see `error.*` in `LOG_FIELDS`). */
export interface SerializedError {
  type?: string;
  code?: string;
  message: string;
  stack?: string;
  cause?: SerializedError;
  errors?: SerializedError[];
  extra?: Record<string, unknown>;
}

/** Options of `serializeError`. */
export interface SerializeErrorOptions {
  redactor: Redactor;
  /** Write `stack` (scrubbed). The logger turns it on in development and test. */
  stack: boolean;
  /** @default 5 */
  maxCauseDepth?: number;
  /** Errors of an AggregateError written per level. @default 10 */
  maxAggregateErrors?: number;
}

/** Own properties written by their own field, never copied into `extra`. */
const OWN_FIELDS = new Set(['name', 'message', 'stack', 'cause', 'errors']);

/**
 * Turns any thrown value into the log line's `error` object:
 * `{ type?, code?, message, stack?, cause?, errors?, extra? }`.
 *
 * - Error-likes (Errors, and objects with a `message`, `code` or `name`):
 *   `type` is the error's `name`; numeric `code`s are written as strings;
 *   `message` and `stack` are scrubbed by the redactor; other own enumerable
 *   properties (an HTTP client's `config.headers`, a `statusCode`) go through
 *   `redactor.redactValue` into `extra`.
 * - Anything else (`throw 'boom'`, `throw 42`): `{ message: String(value) }`,
 *   scrubbed.
 * - `cause` chains are followed up to `maxCauseDepth` (a cycle or a longer
 *   chain ends with `{ message: '[MaxCauseDepth]' }` / `'[Circular]'`);
 *   `AggregateError.errors` up to `maxAggregateErrors` per level, then one
 *   `{ message: '[N more errors]' }`.
 *
 * Never throws: a value whose properties throw becomes
 * `{ message: '[Unserializable error]' }`.
 */
export function serializeError(err: unknown, options: SerializeErrorOptions): SerializedError {
  return serialize(err, options, 0, []);
}

function serialize(
  err: unknown,
  o: SerializeErrorOptions,
  depth: number,
  seen: unknown[],
): SerializedError {
  try {
    if (typeof err !== 'object' || err === null) {
      return { message: o.redactor.redactString(String(err)) };
    }
    if (seen.includes(err)) return { message: '[Circular]' };
    if (depth > (o.maxCauseDepth ?? 5)) return { message: '[MaxCauseDepth]' };
    // `seen` is the current chain only: the same error twice in an
    // AggregateError is not a cycle.
    seen.push(err);
    try {
      return serializeObject(err as Record<string, unknown>, o, depth, seen);
    } finally {
      seen.pop();
    }
  } catch {
    return { message: '[Unserializable error]' };
  }
}

function serializeObject(
  err: Record<string, unknown>,
  o: SerializeErrorOptions,
  depth: number,
  seen: unknown[],
): SerializedError {
  const r = o.redactor;
  const name = err['name'];
  const code = err['code'];
  const message = err['message'];
  // Built in the written order: type, code, message, stack, cause, errors, extra.
  const out = {} as SerializedError;
  if (typeof name === 'string' && name !== '') out.type = r.redactString(name);
  else if (err instanceof Error) out.type = err.constructor?.name || 'Error';
  if (typeof code === 'string' || typeof code === 'number') out.code = r.redactString(String(code));
  out.message = r.redactString(
    typeof message === 'string' ? message : message === undefined ? '' : String(message),
  );
  if (o.stack && typeof err['stack'] === 'string') out.stack = r.redactString(err['stack']);
  const cause = err['cause'];
  if (cause !== undefined) out.cause = serialize(cause, o, depth + 1, seen);
  const errors = err['errors'];
  if (Array.isArray(errors)) out.errors = serializeErrors(errors, o, depth, seen);
  const extra = ownExtras(err);
  if (extra !== undefined) {
    out.extra = r.redactValue(extra) as Record<string, unknown>;
    for (const key of BODY_FIELDS) {
      const body = out.extra[key];
      if (typeof body === 'string') out.extra[key] = cutBody(body);
    }
  }
  return out;
}

/**
 * Fields in which HTTP libraries attach a request body to an error
 * (body-parser's `entity.parse.failed` carries the raw body in `body`).
 */
const BODY_FIELDS = ['body', 'rawBody'] as const;

/**
 * Longest part of a request body an error line keeps, already scrubbed. A
 * body a parser could not read is not structured data the redactor can walk
 * by key, so only its start is kept, enough to see what kind of input it was.
 */
export const MAX_BODY_CHARS = 256;

function cutBody(scrubbed: string): string {
  if (scrubbed.length <= MAX_BODY_CHARS) return scrubbed;
  let end = MAX_BODY_CHARS;
  const c = scrubbed.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end -= 1;
  // Cut at a scrubbed marker's start rather than through it.
  const open = scrubbed.lastIndexOf('[', end);
  if (open !== -1 && open > end - 12 && scrubbed.indexOf(']', open) >= end) end = open;
  return `${scrubbed.slice(0, end)}…[TRUNCATED ${scrubbed.length} chars]`;
}

function serializeErrors(
  errors: unknown[],
  o: SerializeErrorOptions,
  depth: number,
  seen: unknown[],
): SerializedError[] {
  const max = o.maxAggregateErrors ?? 10;
  const out = errors.slice(0, max).map((e) => serialize(e, o, depth + 1, seen));
  if (errors.length > max) out.push({ message: `[${errors.length - max} more errors]` });
  return out;
}

function ownExtras(err: Record<string, unknown>): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(err)) {
    if (OWN_FIELDS.has(key)) continue;
    // A string or numeric code has its own field; any other goes to extra.
    if (key === 'code' && (typeof err[key] === 'string' || typeof err[key] === 'number')) continue;
    // Null prototype: an own `__proto__` key stays a plain key.
    extra ??= Object.create(null) as Record<string, unknown>;
    try {
      extra[key] = err[key];
    } catch {
      extra[key] = '[GetterThrew]';
    }
  }
  return extra;
}
