import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { resolveConfig, type ResolvedConfig } from './config/resolve.js';
import { StacklightError } from './errors.js';
import { createLogger } from './logging/index.js';
import { installCrashHandlers } from './crash-handler.js';
import {
  beginSentry,
  captureException as sentryCapture,
  closeSentry,
  flushSentry,
  initSentry,
  SENTRY_PACKAGE,
  sentryInstalled,
  sentryLoaded,
  type CaptureContext,
} from './logging/sentry.js';
import type { MetricDefinition } from './metrics/catalog.js';
import { renderMetrics, type ExpositionFormat } from './metrics/exposition.js';
import { createMetricsHandler, startMetricsServer } from './metrics/handler.js';
import type { ExemplarSource } from './metrics/instruments.js';
import {
  createMetrics,
  type CatalogMetrics,
  type InstrumentOf,
  type SelfMetrics,
} from './metrics/registry.js';
import { checkDuplicateCopies, checkPrometheusClients } from './self-check.js';
import { createShutdownSequence, type ShutdownHook, type ShutdownPhase } from './shutdown.js';
import { createFailureReporter } from './tracing/otlp/failure-log.js';
import { forwardOtelDiag } from './tracing/diag.js';
import { reportGuard } from './internals/guard.js';
import { otelApiGuard } from './internals/otel-api.js';
import { createTracing } from './tracing/provider.js';
import { createRedactor } from './logging/redact.js';
import type { DiagnosticsLevel, StacklightOptions } from './types.js';

/** The handle `init()` returns. */
export interface Telemetry {
  readonly service: string;
  readonly env: string;
  readonly region: string;
  readonly version: string;
  /** pino logger writing the spec's JSON schema. */
  readonly logger: Logger;
  /** prom-client registry of this instance (never the global one). */
  readonly registry: Registry;
  /** The catalog's instruments; label names are checked by the compiler. */
  readonly metrics: CatalogMetrics;
  /** stacklight's own health metrics. */
  readonly selfMetrics: SelfMetrics;
  /** OpenTelemetry tracer of this service. */
  readonly tracer: Tracer;
  /** Resolved configuration (read-only). */
  readonly config: Readonly<ResolvedConfig>;
  /**
   * Sends an error to Sentry (when `sentry.dsn` is set), redacted and tagged
   * with the request/job context and the trace id. Returns the event id, or
   * `undefined` without Sentry. Never throws.
   */
  captureException(err: unknown, ctx?: CaptureContext): string | undefined;
  /**
   * The redaction engine of logs, Sentry events and span attributes: a
   * scrubbed copy of `value` (secret keys, e-mail addresses, tokens).
   */
  redact<T>(value: T): T;
  /** Registers a metric of the service's own, guarded like the catalog's. */
  defineMetric<D extends MetricDefinition>(def: D): InstrumentOf<D>;
  /** The exposition, in Prometheus text (default) or OpenMetrics. */
  metricsText(format?: ExpositionFormat): Promise<string>;
  /** A Node `http` handler serving the exposition (honours `metrics.token`). */
  readonly metricsHandler: ReturnType<typeof createMetricsHandler>;
  /**
   * Resolves once the metrics port (if configured) listens and Sentry (if
   * configured) is initialised; rejects if the port cannot be bound. Errors
   * captured before Sentry is ready are queued and sent once it is (there is
   * no need to await this before serving).
   */
  ready(): Promise<void>;
  /** Address of the metrics port, once listening. */
  metricsAddress(): AddressInfo | undefined;
  /** Adds a step to the shutdown sequence; returns a function that removes it. */
  onShutdown(phase: ShutdownPhase, name: string, hook: ShutdownHook): () => void;
  /**
   * Drains, flushes spans and logs, and closes what stacklight opened, within
   * `shutdown.timeoutMs`. Safe to call more than once; never rejects.
   */
  shutdown(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The live instance of this process, and its shutdown once one started. */
interface LiveInstance {
  service: string;
  shuttingDown: Promise<void> | undefined;
}
let live: LiveInstance | undefined;

/** Order of `logging.diagnosticsLevel` (`OTEL_LOG_LEVEL`). */
const DIAG_RANK: Record<DiagnosticsLevel, number> = {
  none: 0,
  error: 1,
  warn: 2,
  info: 3,
  debug: 4,
  verbose: 5,
  all: 6,
};

function exemplarSource(): ExemplarSource {
  return () => {
    const span = trace.getSpan(context.active());
    if (span === undefined) return undefined;
    const sc = span.spanContext();
    // The span context itself (it has traceId and spanId): nothing allocated.
    return (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc : undefined;
  };
}

/** Upper bound of the flush after a crash, in ms (see `shutdown.handleCrashes`). */
const CRASH_FLUSH_MAX_MS = 2000;

/**
 * Starts telemetry for this service: metrics registry and catalog
 * instruments, the JSON logger, the tracer provider and propagators.
 *
 * Configuration precedence: explicit option > `OTEL_*` > `STACKLIGHT_*` >
 * default. An invalid value throws a `ConfigError` naming the option or
 * variable, the value and what is allowed.
 *
 * One live instance per process: a second `init()` before `shutdown()` of
 * the first throws (two instances would fight over the OpenTelemetry
 * globals and double every series). After `shutdown()`, `init()` may be
 * called again (tests, hot reload).
 *
 * @example
 * ```ts
 * import { init } from 'stacklight';
 * const telemetry = init({ service: 'edge' });
 * telemetry.logger.info({ route: '/healthz' }, 'started');
 * ```
 */
export function init(options: StacklightOptions = {}): Telemetry {
  const config = resolveConfig(options);
  if (live?.shuttingDown !== undefined) {
    throw new StacklightError(
      'STACKLIGHT_STATE',
      `init() was called while the previous instance (service "${live.service}") is still shutting down; ` +
        `await its shutdown() before calling init() again`,
    );
  }
  if (config.sentry.dsn !== undefined && !sentryLoaded() && !sentryInstalled()) {
    throw new StacklightError(
      'STACKLIGHT_CONFIG',
      `sentry.dsn is set (option, SENTRY_DSN or STACKLIGHT_SENTRY_DSN) but the optional peer dependency ` +
        `"${SENTRY_PACKAGE}" is not installed. Fix: npm install ${SENTRY_PACKAGE}@^11, or unset sentry.dsn`,
    );
  }
  if (live !== undefined) {
    throw new StacklightError(
      'STACKLIGHT_STATE',
      `init() was already called in this process (service "${live.service}"); reuse that Telemetry handle, ` +
        `or call its shutdown() before calling init() again`,
    );
  }

  const defaultLabels: Record<string, string> = { service: config.service };
  if (config.metrics.envLabels) {
    defaultLabels.env = config.env;
    defaultLabels.region = config.region;
  }
  const room = createMetrics({
    defaultLabels,
    maxSeriesPerMetric: config.metrics.maxSeriesPerMetric,
    defaultMetrics: config.metrics.defaultMetrics,
    serviceVersion: config.version,
    exemplarSource: config.tracing.enabled ? exemplarSource() : undefined,
    // Called only once instruments are used, after warnOnce below exists.
    onLabelError: (metric, message) => warnOnce(`metric-labels:${metric}`, message),
    // The log line's rules and secret keys, for label values.
    scrubLabel: createRedactor({ keys: config.logging.redactKeys }).redactString,
  });
  const { self } = room;
  const internalError = (component: string): void => self.internalErrorsTotal.inc({ component });

  const logging = createLogger({
    service: config.service,
    env: config.env,
    region: config.region,
    version: config.version,
    level: config.logging.level,
    destination: config.logging.destination,
    transport: config.logging.transport,
    redactKeys: config.logging.redactKeys,
    redactPaths: config.logging.redactPaths,
    stackTraces: config.logging.stackTraces,
    maxStringLength: config.logging.maxStringLength,
    onSchemaViolation: (kind) => self.logSchemaViolationsTotal.inc({ kind }),
    onLogDrop: (reason, lines) => self.logLinesDroppedTotal.inc({ reason }, lines),
  });
  const logger = logging.logger;

  const diagRank = DIAG_RANK[config.logging.diagnosticsLevel];
  const diagWarn = (key: string, message: string): void => {
    if (diagRank >= DIAG_RANK.warn) logger.warn({ stacklight: key }, `stacklight: ${message}`);
  };
  const reportExportFailure = createFailureReporter((m) => diagWarn('export', m));
  const tracing = createTracing(
    config,
    (reason, count) => self.spansDroppedTotal.inc({ reason }, count),
    process.env,
    reportExportFailure,
  );
  const me: LiveInstance = { service: config.service, shuttingDown: undefined };
  live = me;
  const stopDiag =
    diagRank >= DIAG_RANK.info
      ? forwardOtelDiag(logger, config.logging.diagnosticsLevel)
      : undefined;
  // The mode chosen ('auto' resolved): the HTTP middleware reads it.
  config.tracing.provider = tracing.mode;

  const warned = new Set<string>();
  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    diagWarn(key, message);
  };
  config.warnings.forEach((w, i) => warnOnce(`config#${i}`, w));
  for (const w of tracing.warnings) warnOnce('otel-globals', w);
  for (const g of [...logging.guards, ...(tracing.guards ?? []), otelApiGuard()]) {
    reportGuard(g, warnOnce);
  }
  const dup = checkDuplicateCopies();
  if (dup) warnOnce('duplicate-copies', dup);
  const prom = checkPrometheusClients();
  if (prom) warnOnce('prometheus-clients', prom);

  const metricsText = (format: ExpositionFormat = 'prometheus'): Promise<string> =>
    renderMetrics(room.registry, {
      format,
      defaultLabels,
      collectTimeoutMs: config.metrics.collectTimeoutMs,
      onCollectError: (metric, err) => {
        internalError('metrics_collect');
        warnOnce(
          `collect:${metric}`,
          `collecting ${metric} failed: ${(err as Error)?.message ?? String(err)}`,
        );
      },
    });
  const metricsHandler = createMetricsHandler(metricsText, {
    token: config.metrics.token,
    onError: () => internalError('metrics_render'),
  });

  const sequence = createShutdownSequence((hook, err) => {
    internalError('shutdown');
    diagWarn(
      'shutdown',
      `shutdown step "${hook}" failed: ${(err as Error)?.message ?? String(err)}`,
    );
  });

  let server: Server | undefined;
  let readyPromise: Promise<void> = Promise.resolve();
  if (config.metrics.port !== undefined) {
    readyPromise = startMetricsServer(metricsHandler, {
      port: config.metrics.port,
      host: config.metrics.host,
      path: config.metrics.path,
    }).then(
      (s) => {
        server = s;
      },
      (err: unknown) => {
        internalError('metrics_server');
        if (diagRank >= DIAG_RANK.error)
          logger.error(
            { stacklight: 'metrics-server' },
            `stacklight: cannot serve metrics on ${config.metrics.host}:${config.metrics.port}: ${(err as Error).message}`,
          );
        throw err;
      },
    );
    // An unobserved rejection must not crash the host: ready() re-exposes it.
    readyPromise.catch(() => undefined);
  }

  let sentryReady: Promise<boolean> = Promise.resolve(false);
  // With a DSN, or when the service already loaded Sentry itself (stacklight
  // then joins its client). Captures made meanwhile are queued.
  if (config.sentry.dsn !== undefined || sentryLoaded()) {
    beginSentry((count) => self.internalErrorsTotal.inc({ component: 'sentry_queue' }, count));
    sentryReady = initSentry({
      dsn: config.sentry.dsn,
      service: config.service,
      env: config.env,
      release: config.version,
      sampleRate: config.sentry.sampleRate,
      options: config.sentry.options,
      redactor: logging.redactor,
      handlesCrashes: config.shutdown.handleCrashes,
    }).then((ok) => {
      if (!ok && config.sentry.dsn !== undefined) {
        internalError('sentry');
        warnOnce(
          'sentry',
          'Sentry could not be initialised; errors are logged but not sent to Sentry',
        );
      }
      return ok;
    });
    sequence.add('flush', 'sentry', async (deadline) => {
      await sentryReady;
      await closeSentry(Math.max(0, deadline - Date.now()));
    });
  }

  sequence.add('flush', 'spans', (_deadline, signal) => tracing.shutdown(signal));
  // Logs last in the phase's time: the span flush may log its failure.
  sequence.add('flush', 'logs', (deadline) => logging.flush(Math.max(1, deadline - Date.now())));
  sequence.add('close', 'metrics-server', () =>
    server === undefined
      ? undefined
      : new Promise<void>((resolve) => {
          server!.close(() => resolve());
          server!.closeAllConnections?.();
        }),
  );

  if (stopDiag !== undefined) sequence.add('close', 'otel-diag', stopDiag);
  // A stalled stdout must not keep the process alive once shutdown is done.
  sequence.add('close', 'log-destination', () => logging.release());

  let removeCrashHandlers: (() => void) | undefined;
  if (config.shutdown.handleCrashes) {
    // A crashed process should end promptly, even with a hung collector or a
    // stalled stdout: at most 2 s of flushing (less when the budget is smaller).
    const crashFlushMs = Math.min(config.shutdown.timeoutMs, CRASH_FLUSH_MAX_MS);
    removeCrashHandlers = installCrashHandlers({
      logger,
      capture: (err, origin) => {
        sentryCapture(err, { level: 'fatal', tags: { mechanism: origin } });
      },
      flush: async () => {
        await sentryReady;
        await Promise.all([flushSentry(crashFlushMs), tracing.forceFlush(), logging.flush()]);
      },
      timeoutMs: crashFlushMs,
    });
  }

  let signalHandler: ((signal: NodeJS.Signals) => void) | undefined;
  let shutdownPromise: Promise<void> | undefined;
  // One promise for every call: awaiting it twice, or from two places, waits
  // for the same sequence, and a stale handle's second call changes nothing.
  const shutdown = (): Promise<void> => {
    shutdownPromise ??= (async () => {
      removeCrashHandlers?.();
      removeCrashHandlers = undefined;
      if (signalHandler !== undefined) {
        process.off('SIGTERM', signalHandler);
        process.off('SIGINT', signalHandler);
      }
      me.shuttingDown = sequence.run(config.shutdown.timeoutMs);
      try {
        await me.shuttingDown;
      } finally {
        // Only this instance's own registration is given back.
        if (live === me) live = undefined;
      }
    })();
    return shutdownPromise;
  };
  /** After shutdown, the handle's methods still answer but do nothing, and say so once. */
  let warnedInert = false;
  const inert = (method: string): boolean => {
    if (shutdownPromise === undefined) return false;
    if (!warnedInert) {
      warnedInert = true;
      internalError('after_shutdown');
      diagWarn(
        'after-shutdown',
        `${method}() was called on the Telemetry handle of service "${config.service}" after its shutdown(); ` +
          'it does nothing. Use the handle of the current init()',
      );
    }
    return true;
  };
  if (config.shutdown.handleSignals) {
    signalHandler = (signal) => {
      void shutdown().finally(() => {
        // Re-raise so the process ends the way it would have without us,
        // unless the service listens for the signal itself.
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    process.once('SIGTERM', signalHandler);
    process.once('SIGINT', signalHandler);
  }

  return {
    service: config.service,
    env: config.env,
    region: config.region,
    version: config.version,
    logger,
    registry: room.registry,
    metrics: room.metrics,
    selfMetrics: self,
    tracer: tracing.tracer,
    config,
    defineMetric: (def) => {
      inert('defineMetric');
      return room.define(def);
    },
    captureException: (err, ctx) =>
      inert('captureException') ? undefined : sentryCapture(err, ctx),
    redact: <T>(value: T): T => logging.redactor.redactValue(value) as T,
    metricsText,
    metricsHandler,
    ready: () => Promise.all([readyPromise, sentryReady]).then(() => undefined),
    metricsAddress: () => (server?.address() as AddressInfo | null) ?? undefined,
    onShutdown: (phase, name, hook) =>
      inert('onShutdown') ? () => undefined : sequence.add(phase, name, hook),
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
