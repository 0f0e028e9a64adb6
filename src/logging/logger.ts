import pino from 'pino';
import { ConfigError } from '../errors.js';
import type { Guard } from '../internals/guard.js';
import { pinoGuard } from '../internals/pino.js';
import { isPinoSonicBoom, sonicBoomGuard } from '../internals/sonic-boom.js';
import { BatchedFdWriter, type LogDropReason } from './destination.js';
import { flushDestination } from './flush.js';
import { BOUND_EXTRA, BOUND_KEYS, createLineMixin, takeMixin, type LoggerState } from './line.js';
import { expandRedactPaths } from './redact-paths.js';
import { installLineJson } from './line-json.js';
import { installRequestLine } from './request-line.js';
import { checkFieldDeclarations } from './declared-fields.js';
import { fieldRulesWith } from './field-rules.js';
import { createRedactor, type Redactor } from './redact.js';
import { LineSanitizer, type Line, type SchemaViolationKind } from './sanitize.js';
import { LOG_LEVELS, type LogFieldDeclarations } from './schema.js';
import { MARKERS, type RedactionKind } from './scrub.js';
import { isoTimestamp } from './timestamp.js';

/** Configuration of `createLogger`, resolved by `init()`. */
export interface LoggerSetup {
  /** `service` field of every line. */
  service: string;
  /** `env` field of every line. */
  env: string;
  /** `region` field of every line. @default 'unknown' */
  region?: string;
  /** `version` field of every line, when set. */
  version?: string;
  /** Lowest level written. */
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  /**
   * Where lines go. Exclusive with `transport`. @default stdout (fd 1),
   * written asynchronously in batches by a {@link BatchedFdWriter} (see
   * `STDOUT_FLUSH_BYTES`, `STDOUT_FLUSH_INTERVAL_MS`, `STDOUT_MAX_BUFFERED_BYTES`)
   */
  destination?: NodeJS.WritableStream | pino.DestinationStream;
  /** A pino transport (worker thread), e.g. Loki. Exclusive with `destination`. */
  transport?:
    pino.TransportSingleOptions | pino.TransportMultiOptions | pino.TransportPipelineOptions;
  /** Extra secret key names for the redactor (see `DEFAULT_SECRET_KEYS`). */
  redactKeys?: string[];
  /**
   * pino `redact` paths, censored with `[REDACTED]`. Paths whose first
   * segment is not a schema field are also applied under `extra`, where the
   * logger moves unknown keys (`'card.number'` → `'extra.card.number'`).
   */
  redactPaths?: string[];
  /** Write `error.stack`. `init()` turns it on in development and test. */
  stackTraces: boolean;
  /** @default 8192 */
  maxStringLength?: number;
  /**
   * The service's own fields (`logging.fields`): written at the top level,
   * checked by type like the schema's. @default {}
   */
  fields?: LogFieldDeclarations;
  /** Called once per schema violation; wire it to a self-metric. */
  onSchemaViolation?: (kind: SchemaViolationKind, field: string) => void;
  /** Called once per redaction; wire it to a self-metric. */
  onRedaction?: (kind: RedactionKind) => void;
  /**
   * The redaction engine to use, when one is shared with other exits
   * (`init()` builds one for lines, label values and spans); `redactKeys`,
   * `maxStringLength` and `onRedaction` are then its own business.
   * @default one built from `redactKeys`, `maxStringLength` and `onRedaction`
   */
  redactor?: Redactor;
  /** Called when the default destination drops lines; wire it to a self-metric. */
  onLogDrop?: (reason: LogDropReason, lines: number) => void;
}

/** What `createLogger` returns. */
export interface LoggerHandle {
  logger: pino.Logger;
  /**
   * Resolves once every line written so far has left the process (or after
   * `timeoutMs`). Never rejects: a broken destination costs logs, not the
   * shutdown.
   */
  flush(timeoutMs?: number): Promise<void>;
  /**
   * At the end of shutdown: the default destination's pending lines stop
   * keeping the process alive (see `BatchedFdWriter.release`).
   */
  release(): void;
  /** The redactor of this logger, for Sentry events and span attributes. */
  redactor: Redactor;
  /**
   * The version guards of the dependencies whose private internals this
   * logger's fast paths read (internals/); `init()` reports those on the
   * public path.
   */
  guards: readonly Guard[];
}

/** The version guards `createLogger` consults; tests pass out-of-range ones. */
export interface LoggerGuards {
  pino: Guard;
  /** For a `pino.destination()` destination. */
  sonicBoom: Guard;
}

const LEVELS: ReadonlySet<string> = new Set([...LOG_LEVELS, 'silent']);

/**
 * Bytes pending at which the default stdout destination starts a write: one
 * `write(2)` — one libuv threadpool round trip — per 64 KiB, i.e. per ~180
 * request lines of 300–400 bytes, instead of one per line. Lines arriving
 * while a write is in flight join the next one, so under load batches grow
 * by themselves. 64 KiB is a Linux pipe's default capacity, so a batch fits
 * an empty pipe in one write. Each round trip wakes a worker thread, and on a
 * service pinned to one CPU that is a few context switches taken from the
 * event loop: at 64 KiB they are a negligible share of a Fastify service's
 * context switches per request (bench/NOTES.md). What a kill -9
 * can lose stays bounded by `STDOUT_FLUSH_INTERVAL_MS`: a service that fills
 * 64 KiB in less than 100 ms writes it sooner.
 */
export const STDOUT_FLUSH_BYTES = 65536;

/**
 * How long (ms) the default stdout destination holds lines below
 * `STDOUT_FLUSH_BYTES` before writing them. 100 ms keeps `kubectl logs -f`
 * and `tail -f` feeling immediate for a quiet service and bounds what a
 * kill -9 or an OOM kill can lose (no exit handler runs then) to 100 ms of
 * lines under 64 KiB. A timer is armed only by the first line of a quiet
 * period, so an idle service has none.
 */
export const STDOUT_FLUSH_INTERVAL_MS = 100;

/**
 * Most bytes the default stdout destination holds while stdout does not
 * keep up (a stalled pipe): ~25 000 request lines. Beyond it lines are
 * dropped and counted (`stacklight_log_lines_dropped_total{reason="buffer_full"}`)
 * rather than held without limit.
 */
export const STDOUT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * The default destination on file descriptor `fd` (stdout for the service;
 * the benchmarks point it at /dev/null).
 */
export function batchedDestination(
  fd: number,
  onDrop?: (reason: LogDropReason, lines: number) => void,
): BatchedFdWriter {
  return new BatchedFdWriter({
    fd,
    flushBytes: STDOUT_FLUSH_BYTES,
    flushIntervalMs: STDOUT_FLUSH_INTERVAL_MS,
    maxBufferedBytes: STDOUT_MAX_BUFFERED_BYTES,
    ...(onDrop === undefined ? {} : { onDrop }),
  });
}

/**
 * Creates the service logger: pino with the spec's line format, schema
 * policy, redaction and log–trace correlation.
 *
 * Line: `{"level":"info","ts":"2026-11-26T16:40:00.000Z","service":…,"env":…,
 * "region":…,<context>,<traceId,spanId>,<fields>,"msg":…}`. `service`, `env`,
 * `region`, `version` are serialized once, here (pino `base`). Everything per
 * line happens in one `mixin` (see `line.ts`) plus one `msg` serializer; no
 * `formatters.log`, no `hooks.logMethod` (each would add a call per line).
 *
 * Default destination: stdout (fd 1) through a {@link BatchedFdWriter}
 * that encodes lines into a byte buffer and writes it asynchronously once
 * `STDOUT_FLUSH_BYTES` are pending, or `STDOUT_FLUSH_INTERVAL_MS` after the
 * first line of a quiet period, so under load one `write(2)` carries many
 * lines. It is asynchronous because a slow stdout pipe would otherwise block
 * the event loop; it batches because one write per line costs a threadpool
 * round trip per line.
 *
 * Crash safety: pino calls the destination's `flushSync()` after every
 * `fatal` line, which writes everything buffered; the destination also
 * writes what it holds synchronously in a `process.on('exit')` handler, so
 * lines logged right before `process.exit()` are written. `flush()` (and
 * `telemetry.shutdown()`) waits until every line written before the call has
 * left. Only a kill that runs no handler (SIGKILL, OOM) loses what is still
 * buffered.
 *
 * @throws {ConfigError} for an unknown level, `destination` together with
 *   `transport`, an invalid redact path, or an invalid field declaration
 *   (see `checkFieldDeclarations`).
 * @example
 * const { logger, flush } = createLogger({ service: 'edge', env: 'production', level: 'info', stackTraces: false });
 * logger.info({ status: 200, latency_ms: 12 }, 'request completed');
 * await flush();
 */
export function createLogger(
  setup: LoggerSetup,
  guards: LoggerGuards = { pino: pinoGuard(), sonicBoom: sonicBoomGuard() },
): LoggerHandle {
  if (!LEVELS.has(setup.level)) {
    throw new ConfigError('logging.level', setup.level, `one of ${[...LEVELS].join(', ')}`);
  }
  if (setup.destination !== undefined && setup.transport !== undefined) {
    throw new ConfigError(
      'logging.destination',
      '(a stream)',
      'unset when logging.transport is set',
    );
  }
  const redactor =
    setup.redactor ??
    createRedactor({
      keys: setup.redactKeys ?? [],
      ...(setup.maxStringLength === undefined ? {} : { maxStringLength: setup.maxStringLength }),
      ...(setup.onRedaction === undefined ? {} : { onRedaction: setup.onRedaction }),
    });
  const fields = checkFieldDeclarations(setup.fields ?? {}, redactor.isSecretKey);
  const sanitizer = new LineSanitizer({
    redactor,
    stackTraces: setup.stackTraces,
    onSchemaViolation: setup.onSchemaViolation,
    rules: fieldRulesWith(fields),
  });
  const scrub = redactor.redactString;
  const scrubMessage = (m: unknown): string =>
    typeof m === 'string' ? scrub(m) : scrub(messageText(m, redactor));
  const base: Line = {
    service: scrub(setup.service),
    env: scrub(setup.env),
    region: scrub(setup.region ?? 'unknown'),
  };
  if (setup.version !== undefined) base['version'] = scrub(setup.version);

  const stream = setup.transport
    ? pino.transport(setup.transport)
    : (setup.destination ?? batchedDestination(1, setup.onLogDrop));

  const options: pino.LoggerOptions = {
    level: setup.level,
    base,
    messageKey: 'msg',
    errorKey: 'err',
    timestamp: isoTimestamp,
    formatters: { level: levelAsWord },
    mixin: createLineMixin(sanitizer),
    mixinMergeStrategy: takeMixin,
    // The message is scrubbed after printf-style interpolation, so e-mails
    // in `%s` / `%o` arguments are caught too, in one pass per line.
    serializers: { msg: scrubMessage },
  };
  if (setup.redactPaths !== undefined && setup.redactPaths.length > 0) {
    options.redact = { paths: expandRedactPaths(setup.redactPaths), censor: MARKERS.redacted };
  }
  let logger: pino.Logger;
  try {
    logger = pino(options, stream as pino.DestinationStream);
  } catch (error) {
    if (options.redact === undefined) throw error;
    throw new ConfigError('logging.redactPaths', setup.redactPaths, 'valid pino redact paths');
  }
  installBindingPolicy(logger, sanitizer, scrubMessage);
  // The direct writers read pino's internals: only on a tested pino.
  if (guards.pino.fast) {
    installLineJson(logger, Object.keys(fields));
    installRequestLine(logger, scrub, options.redact === undefined);
  }
  const consulted: Guard[] = [guards.pino];
  const sonicBoom = isPinoSonicBoom(stream);
  if (sonicBoom) consulted.push(guards.sonicBoom);
  const readSonicBoom = sonicBoom && guards.sonicBoom.fast;
  return {
    logger,
    redactor,
    guards: consulted,
    flush: (timeoutMs = 5000) => flushDestination(logger, stream, timeoutMs, readSonicBoom),
    release: () => {
      if (stream instanceof BatchedFdWriter) stream.release();
    },
  };
}

function levelAsWord(label: string): { level: string } {
  return { level: label };
}

function messageText(m: unknown, redactor: Redactor): string {
  if (typeof m === 'string') return m;
  if (typeof m !== 'object' || m === null) return String(m);
  try {
    return JSON.stringify(redactor.redactValue(m)) ?? '';
  } catch {
    return '[Unserializable]';
  }
}

/**
 * Child options keep the guarantees of the root: a `msg` serializer given by
 * the caller runs first and its result is still scrubbed, and `redact` paths
 * are adapted to the `extra` layout like the root's.
 */
function childOptions(
  options: pino.ChildLoggerOptions | undefined,
  scrubMessage: (m: unknown) => string,
): pino.ChildLoggerOptions | undefined {
  if (options === undefined) return undefined;
  const out: pino.ChildLoggerOptions = { ...options };
  const theirs = options.serializers?.['msg'];
  if (options.serializers !== undefined) {
    out.serializers = {
      ...options.serializers,
      msg: theirs === undefined ? scrubMessage : (m: unknown) => scrubMessage(theirs(m)),
    };
  }
  const redact = options.redact;
  if (Array.isArray(redact))
    out.redact = { paths: expandRedactPaths(redact), censor: MARKERS.redacted };
  else if (redact !== undefined) out.redact = { ...redact, paths: expandRedactPaths(redact.paths) };
  return out;
}

type ChildFn = (
  this: pino.Logger,
  bindings: pino.Bindings,
  options?: pino.ChildLoggerOptions,
) => pino.Logger;
type SetBindingsFn = (this: pino.Logger, bindings: pino.Bindings) => void;

/**
 * Child bindings bypass pino's `formatters.bindings` (pino resets it for
 * children), so `child()` and `setBindings()` are wrapped on the root
 * instance (children inherit the wrappers through the prototype chain): the
 * bindings go through the same schema policy and redactor as a line. Schema
 * fields become pino bindings, serialized once; the rest becomes a redacted
 * `extra` merged into each line by the mixin.
 */
function installBindingPolicy(
  root: pino.Logger,
  sanitizer: LineSanitizer,
  scrubMessage: (m: unknown) => string,
): void {
  const pinoChild = root.child as unknown as ChildFn;
  const pinoSetBindings = root.setBindings as unknown as SetBindingsFn;

  function split(self: pino.Logger, bindings: pino.Bindings): { fields: Line; state: LoggerState } {
    const parent = self as LoggerState;
    const fields: Line = {};
    let moved = sanitizer.putAll(fields, bindings ?? {}, undefined);
    if (fields['msg'] !== undefined) {
      // A `msg` binding would be written twice on lines with a message.
      moved = { ...moved, msg: fields['msg'] };
      delete fields['msg'];
    }
    sanitizer.finishExtra(fields, moved, parent[BOUND_EXTRA]);
    const extra = fields['extra'] as Line | undefined;
    delete fields['extra'];
    const keys: Record<string, true> = { ...parent[BOUND_KEYS] };
    for (const k of Object.keys(fields)) keys[k] = true;
    return { fields, state: { [BOUND_KEYS]: keys, [BOUND_EXTRA]: extra } };
  }

  function child(
    this: pino.Logger,
    bindings: pino.Bindings,
    options?: pino.ChildLoggerOptions,
  ): pino.Logger {
    const { fields, state } = split(this, bindings);
    const instance = pinoChild.call(this, fields, childOptions(options, scrubMessage));
    Object.assign(instance, state);
    return instance;
  }

  function setBindings(this: pino.Logger, bindings: pino.Bindings): void {
    const { fields, state } = split(this, bindings);
    pinoSetBindings.call(this, fields);
    Object.assign(this, state);
  }

  Object.defineProperty(root, 'child', { value: child, writable: true, configurable: true });
  Object.defineProperty(root, 'setBindings', {
    value: setBindings,
    writable: true,
    configurable: true,
  });
}
