import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { resolveConfig } from './config/resolve.js';
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
} from './logging/sentry.js';
import { renderMetrics, type ExpositionFormat } from './metrics/exposition.js';
import { createMetricsHandler, startMetricsServer } from './metrics/handler.js';
import type { ExemplarSource } from './metrics/instruments.js';
import { createMetrics } from './metrics/registry.js';
import { checkDuplicateCopies, checkPrometheusClients } from './self-check.js';
import { createShutdownSequence } from './shutdown.js';
import { forwardOtelDiag } from './tracing/diag.js';
import { reportGuard } from './internals/guard.js';
import { otelApiGuard } from './internals/otel-api.js';
import { createTracing } from './tracing/provider.js';
import { createRedactor } from './logging/redact.js';
import { shareParts } from './handle-parts.js';
import { createInternalErrors } from './internal-errors.js';
import type { LogFieldDeclarations, NoDeclaredFields } from './logging/schema.js';
import type { DiagnosticsLevel, StacklightLogger, StacklightOptions, Telemetry } from './types.js';
import { messageOf } from './util/errors.js';

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
export function init<const F extends LogFieldDeclarations = NoDeclaredFields>(
  options: StacklightOptions<F> = {},
): Telemetry<F> {
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
  // The one redaction engine of this handle: log lines, metric label values,
  // spans and Sentry events (and the adapters, through the handle's parts).
  const redactor = createRedactor({
    keys: config.logging.redactKeys,
    maxStringLength: config.logging.maxStringLength,
  });
  const room = createMetrics({
    defaultLabels,
    maxSeriesPerMetric: config.metrics.maxSeriesPerMetric,
    defaultMetrics: config.metrics.defaultMetrics,
    families: config.metrics.families,
    serviceVersion: config.version,
    exemplarSource: config.tracing.enabled ? exemplarSource() : undefined,
    // Called only once instruments are used, after `errors` below exists.
    onLabelError: (metric, message) => errors.warn(`metric-labels:${metric}`, message),
    scrubLabel: redactor.redactString,
  });
  const { self } = room;

  const logging = createLogger({
    service: config.service,
    env: config.env,
    region: config.region,
    version: config.version,
    level: config.logging.level,
    destination: config.logging.destination,
    transport: config.logging.transport,
    redactor,
    redactPaths: config.logging.redactPaths,
    stackTraces: config.logging.stackTraces,
    fields: config.logging.fields,
    onSchemaViolation: (kind) => self.logSchemaViolationsTotal.inc({ kind }),
    onLogDrop: (reason, lines) => self.logLinesDroppedTotal.inc({ reason }, lines),
  });
  const logger = logging.logger;

  const diagRank = DIAG_RANK[config.logging.diagnosticsLevel];
  const errors = createInternalErrors({
    counter: self.internalErrorsTotal,
    sink: diagRank >= DIAG_RANK.warn ? logger : undefined,
  });
  const tracing = createTracing(
    {
      ...config.tracing,
      resource: config.resource,
      redactor,
    },
    (reason, count) => self.spansDroppedTotal.inc({ reason }, count),
    // Counted in stacklight_spans_dropped_total; said at most once a minute.
    (reason) =>
      errors.warn(
        'export',
        `span export failed: ${reason}; the batch's spans are dropped and counted`,
      ),
  );
  const me: LiveInstance = { service: config.service, shuttingDown: undefined };
  live = me;
  const stopDiag =
    diagRank >= DIAG_RANK.info
      ? forwardOtelDiag(logger, config.logging.diagnosticsLevel)
      : undefined;
  // The mode chosen ('auto' resolved): the HTTP middleware reads it.
  config.tracing.provider = tracing.mode;

  config.warnings.forEach((w, i) => errors.warn(`config#${i}`, w));
  tracing.warnings.forEach((w, i) => errors.warn(`otel-globals#${i}`, w));
  for (const g of [...logging.guards, ...(tracing.guards ?? []), otelApiGuard()]) {
    reportGuard(g, errors.warn);
  }
  const dup = checkDuplicateCopies();
  if (dup) errors.warn('duplicate-copies', dup);
  const prom = checkPrometheusClients();
  if (prom) errors.warn('prometheus-clients', prom);

  const metricsText = (format: ExpositionFormat = 'prometheus'): Promise<string> =>
    renderMetrics(room.registry, {
      format,
      defaultLabels,
      collectTimeoutMs: config.metrics.collectTimeoutMs,
      onCollectError: (metric, err) =>
        errors.fault(
          'metrics_collect',
          `collect:${metric}`,
          `collecting ${metric} failed: ${messageOf(err)}`,
        ),
    });
  const metricsHandler = createMetricsHandler(metricsText, {
    token: config.metrics.token,
    onError: () => errors.count('metrics_render'),
  });

  const sequence = createShutdownSequence((hook, err) =>
    errors.fault(
      'shutdown',
      `shutdown:${hook}`,
      `shutdown step "${hook}" failed: ${messageOf(err)}`,
    ),
  );

  let server: Server | undefined;
  let readyPromise: Promise<void> = Promise.resolve();
  if (config.metrics.port !== undefined) {
    readyPromise = startMetricsServer(metricsHandler, {
      port: config.metrics.port,
      host: config.metrics.host,
      path: config.metrics.path,
      onError: (err) =>
        errors.fault(
          'metrics_server',
          'metrics_server',
          `the metrics server on ${config.metrics.host}:${config.metrics.port} failed: ${err.message}`,
        ),
    }).then(
      (s) => {
        server = s;
      },
      (err: unknown) => {
        errors.count('metrics_server');
        if (diagRank >= DIAG_RANK.error)
          logger.error(
            { extra: { stacklight: 'metrics_server' } },
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
    beginSentry((count) => errors.count('sentry_queue', count));
    sentryReady = initSentry({
      dsn: config.sentry.dsn,
      service: config.service,
      env: config.env,
      release: config.version,
      sampleRate: config.sentry.sampleRate,
      options: config.sentry.options,
      redactor,
      handlesCrashes: config.shutdown.handleCrashes,
    }).then((ok) => {
      if (!ok && config.sentry.dsn !== undefined) {
        errors.fault(
          'sentry',
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
      // Sentry loading (local, it ends) may take the whole shutdown budget;
      // the flush itself, which may wait for the network, gets 2 s after it.
      ready: () => sentryReady,
      readyTimeoutMs: config.shutdown.timeoutMs,
      flush: () => Promise.all([flushSentry(crashFlushMs), tracing.forceFlush(), logging.flush()]),
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
  /** After shutdown, the handle's methods still answer but do nothing, and say so. */
  const inert = (method: string): boolean => {
    if (shutdownPromise === undefined) return false;
    errors.fault(
      'after_shutdown',
      'after-shutdown',
      `${method}() was called on the Telemetry handle of service "${config.service}" after its shutdown(); ` +
        'it does nothing. Use the handle of the current init()',
    );
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

  const handle: Telemetry<F> = {
    service: config.service,
    env: config.env,
    region: config.region,
    version: config.version,
    logger: logger as StacklightLogger<F>,
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
    redact: <T>(value: T): T => redactor.redactValue(value) as T,
    metricsText,
    metricsHandler,
    ready: () => Promise.all([readyPromise, sentryReady]).then(() => undefined),
    metricsAddress: () => (server?.address() as AddressInfo | null) ?? undefined,
    onShutdown: (phase, name, hook) =>
      inert('onShutdown') ? () => undefined : sequence.add(phase, name, hook),
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
  shareParts(handle, { redactor, errors });
  return handle;
}
