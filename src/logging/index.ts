/**
 * Internal barrel of the logging room: log schema, redaction engine, error
 * serializer and the pino factory. `src/index.ts` decides what of this is
 * public.
 */
export { createLogger } from './logger.js';
export type { LoggerHandle, LoggerSetup } from './logger.js';
export { createRedactor, REDACTOR_DEFAULTS } from './redact.js';
export type { Redactor, RedactorOptions } from './redact.js';
export { MARKERS } from './scrub.js';
export type { RedactionKind } from './scrub.js';
export { DEFAULT_SECRET_KEYS, SECRET_SUFFIXES, isEncKey, normalizeKey } from './secret-keys.js';
export { serializeError } from './serialize-error.js';
export type { SerializedError, SerializeErrorOptions } from './serialize-error.js';
export type { SchemaViolationKind } from './sanitize.js';
export { CONTEXT_FIELDS, LOG_FIELDS, LOG_LEVELS, TOP_LEVEL_FIELDS } from './schema.js';
export type {
  ContextFieldName,
  LogFieldName,
  LogFields,
  LogFieldSource,
  LogFieldSpec,
  LogFieldType,
  LogLevelName,
} from './schema.js';
export { buildLogJsonSchema, JSON_SCHEMA_DIALECT } from './json-schema.js';
export { expandRedactPaths } from './redact-paths.js';
export { captureException, closeSentry, flushSentry, initSentry } from './sentry.js';
export type { CaptureContext, SentrySetup } from './sentry.js';
export { redactSentryEvent } from './sentry-redact.js';
