/**
 * The log line schema of spec 09 ("Logging (JSON schema)") as data.
 *
 * `LOG_FIELDS` is the single source of truth: the logger's run-time checks
 * (`field-rules.ts`), the `LogFields` type of the logger's object argument,
 * the JSON Schema (`json-schema.ts`, checked in as `log-schema.json`) and the
 * docs page all derive from it. A new field is one entry here.
 *
 * Dotted names (`error.code`) are members of a nested object: the spec's
 * `error.code, error.message, error.stack` are written as
 * `{"error":{"code":…,"message":…,"stack":…}}`.
 */

/** JSON type of a field. */
export type LogFieldType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

/**
 * A type a service may give one of its own log fields (`logging.fields`):
 * the JSON Schema types of the line's own fields, plus `boolean`.
 */
export type DeclaredFieldType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

/** Every {@link DeclaredFieldType}, in the order error messages list them. */
export const DECLARED_FIELD_TYPES = [
  'string',
  'integer',
  'number',
  'boolean',
  'object',
  'array',
] as const satisfies readonly (DeclaredFieldType & LogFieldType)[];

/**
 * `logging.fields`: a service's own log fields, name → JSON type, e.g.
 * `{ tenant: 'string', cached: 'boolean' }`.
 */
export type LogFieldDeclarations = { readonly [name: string]: DeclaredFieldType };

/** No declared fields: the default of the logger's type parameter. */
export type NoDeclaredFields = Record<never, never>;

/**
 * Who writes a field.
 * - `logger`: the logger itself (timestamp, level, the fixed `base` fields);
 *   a caller passing one is a `reserved_field` violation.
 * - `context`: copied from the request/job context (`src/context.ts`) on every
 *   line; a caller may also pass it, and the caller's value wins.
 * - `trace`: copied from the active OpenTelemetry span; the caller's value wins.
 * - `caller`: passed by the caller only.
 */
export type LogFieldSource = 'logger' | 'context' | 'trace' | 'caller';

/** One field of the log line. */
export interface LogFieldSpec {
  readonly type: LogFieldType;
  readonly required: boolean;
  readonly source: LogFieldSource;
  readonly description: string;
  /** A JSON Schema `pattern`, also checked at run time. */
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly string[];
  readonly format?: 'date-time';
  /** The value is (an array of) the nested object named here. */
  readonly ref?: 'error';
}

/** Log levels as they are written in the `level` field. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** A level name as written in the `level` field. */
export type LogLevelName = (typeof LOG_LEVELS)[number];

/** Every field of a log line, in the order the spec lists them. */
export const LOG_FIELDS = Object.freeze({
  ts: {
    type: 'string',
    required: true,
    source: 'logger',
    format: 'date-time',
    description: 'Time the line was written, ISO-8601 UTC with milliseconds.',
  },
  level: {
    type: 'string',
    required: true,
    source: 'logger',
    enum: LOG_LEVELS,
    description: 'Severity as a word.',
  },
  service: {
    type: 'string',
    required: true,
    source: 'logger',
    description: 'Service name (edge, core, workers, ai-coach, …).',
  },
  env: {
    type: 'string',
    required: true,
    source: 'logger',
    description: 'Deployment environment (development, staging, production, …).',
  },
  region: {
    type: 'string',
    required: true,
    source: 'logger',
    description: 'Deployment region; "unknown" when not configured.',
  },
  version: {
    type: 'string',
    required: false,
    source: 'logger',
    description: 'Release of the service, when configured.',
  },
  msg: {
    type: 'string',
    required: false,
    source: 'caller',
    description: 'Human-readable message (scrubbed like every string).',
  },
  requestId: {
    type: 'string',
    required: false,
    source: 'context',
    description:
      'Request id. The spec lists it as common: it is on every line written inside a request; lines outside one (startup, jobs) have none.',
  },
  userId: {
    type: 'string',
    required: false,
    source: 'context',
    description: 'Opaque user id; never an e-mail address.',
  },
  route: {
    type: 'string',
    required: false,
    source: 'context',
    description: 'Route template (/users/:id), never the raw path.',
  },
  method: { type: 'string', required: false, source: 'context', description: 'HTTP method.' },
  status: {
    type: 'integer',
    required: false,
    source: 'caller',
    minimum: 100,
    maximum: 599,
    description: 'HTTP status code of the response.',
  },
  latency_ms: {
    type: 'number',
    required: false,
    source: 'caller',
    minimum: 0,
    description: 'Duration of the request or operation in milliseconds.',
  },
  queue: { type: 'string', required: false, source: 'context', description: 'BullMQ queue name.' },
  job: {
    type: 'string',
    required: false,
    source: 'context',
    description: 'Job name (import.trades, …).',
  },
  jobId: { type: 'string', required: false, source: 'context', description: 'BullMQ job id.' },
  attempt: {
    type: 'integer',
    required: false,
    source: 'context',
    minimum: 0,
    description: 'Attempt number of the job.',
  },
  eventId: {
    type: 'string',
    required: false,
    source: 'context',
    description: 'Outbox / WebSocket / SSE event id.',
  },
  broker: {
    type: 'string',
    required: false,
    source: 'caller',
    description: 'Broker or vendor name.',
  },
  symbol: { type: 'string', required: false, source: 'caller', description: 'Instrument symbol.' },
  error: {
    type: 'object',
    required: false,
    source: 'caller',
    ref: 'error',
    description: 'The error, from the `err` or `error` argument key (see error.*).',
  },
  'error.type': {
    type: 'string',
    required: false,
    source: 'caller',
    description: 'Error class name (TypeError, AggregateError, …).',
  },
  'error.code': {
    type: 'string',
    required: false,
    source: 'caller',
    description: 'Stable error code (numeric codes are written as strings).',
  },
  'error.message': {
    type: 'string',
    required: true,
    source: 'caller',
    description: 'Error message, scrubbed.',
  },
  'error.stack': {
    type: 'string',
    required: false,
    source: 'caller',
    description:
      'Stack trace, scrubbed; written only when stack traces are on (development, test).',
  },
  'error.cause': {
    type: 'object',
    required: false,
    source: 'caller',
    ref: 'error',
    description: 'The cause, same shape; the chain is cut after 5 levels.',
  },
  'error.errors': {
    type: 'array',
    required: false,
    source: 'caller',
    ref: 'error',
    description: 'Errors of an AggregateError, same shape; at most 10.',
  },
  'error.extra': {
    type: 'object',
    required: false,
    source: 'caller',
    description: 'Other own properties of the error, redacted.',
  },
  traceId: {
    type: 'string',
    required: false,
    source: 'trace',
    pattern: '^[0-9a-f]{32}$',
    description: 'W3C trace id of the active span.',
  },
  spanId: {
    type: 'string',
    required: false,
    source: 'trace',
    pattern: '^[0-9a-f]{16}$',
    description: 'W3C span id of the active span.',
  },
  extra: {
    type: 'object',
    required: false,
    source: 'caller',
    description:
      'Fields that are not in the schema, or that had the wrong type, moved here by the logger. Free-form, redacted.',
  },
} as const satisfies Record<string, LogFieldSpec>);

/** Name of a field of the log line (top level or dotted). */
export type LogFieldName = keyof typeof LOG_FIELDS;

type Fields = typeof LOG_FIELDS;
type TopLevelName = Exclude<LogFieldName, `${string}.${string}`>;
type JsonTypeOf<T extends LogFieldType> = T extends 'string'
  ? string
  : T extends 'integer' | 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'array'
        ? unknown[]
        : Record<string, unknown>;
type SettableName = {
  [K in TopLevelName]: Fields[K]['source'] extends 'logger' ? never : K;
}[TopLevelName];

/**
 * The object argument of the logger (`logger.info(fields, msg)`), derived from
 * `LOG_FIELDS` and the service's declared fields `F` (`logging.fields`):
 * every field a caller may set, with its JSON type. `err` and `error` take
 * any thrown value and are written as the nested `error` object. Keys that
 * are not listed are accepted at run time but moved under `extra` (see
 * `sanitize.ts`); annotate with `satisfies LogFields` to catch them at
 * compile time.
 *
 * @example
 * logger.info({ route: '/users/:id', status: 200, latency_ms: 12.5 } satisfies LogFields, 'done');
 */
export type LogFields<F extends LogFieldDeclarations = NoDeclaredFields> = [keyof F] extends [never]
  ? SchemaFields
  : SchemaFields & { -readonly [K in keyof F]?: JsonTypeOf<F[K]> };

type SchemaFields = {
  [K in Exclude<SettableName, 'error'>]?: JsonTypeOf<Fields[K]['type']>;
} & {
  /** Any thrown value; serialized into the `error` object. */
  err?: unknown;
  /** Any thrown value; serialized into the `error` object. */
  error?: unknown;
};

/** Names of the top-level fields, in schema order. */
export const TOP_LEVEL_FIELDS: readonly TopLevelName[] = Object.freeze(
  (Object.keys(LOG_FIELDS) as LogFieldName[]).filter(
    (name): name is TopLevelName => !name.includes('.'),
  ),
);

/** Names of the fields copied from the request/job context on every line. */
export const CONTEXT_FIELDS = Object.freeze(
  TOP_LEVEL_FIELDS.filter((name) => LOG_FIELDS[name].source === 'context'),
) as readonly ContextFieldName[];

/** A field copied from the request/job context. */
export type ContextFieldName = {
  [K in TopLevelName]: Fields[K]['source'] extends 'context' ? K : never;
}[TopLevelName];
