import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { resolveConfig, type ResolvedConfig } from './config/resolve.js';
import { StacklightError } from './errors.js';
import { createLogger } from './logging/index.js';
import {
  captureException as sentryCapture,
  closeSentry,
  initSentry,
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
import { createTracing } from './tracing/provider.js';
import { createRedactor } from './logging/redact.js';
import type { StacklightOptions } from './types.js';

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
   * captured before Sentry is ready are logged but not sent to Sentry.
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

let live: { service: string } | undefined;

function exemplarSource(): ExemplarSource {
  return () => {
    const span = trace.getSpan(context.active());
    if (span === undefined) return undefined;
    const sc = span.spanContext();
    // The span context itself (it has traceId and spanId): nothing allocated.
    return (sc.traceFlags & TraceFlags.SAMPLED) !== 0 ? sc : undefined;
  };
}

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

  const tracing = createTracing(config, (reason, count) =>
    self.spansDroppedTotal.inc({ reason }, count),
  );
  live = { service: config.service };

  const warned = new Set<string>();
  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    logger.warn({ stacklight: key }, `stacklight: ${message}`);
  };
  for (const w of tracing.warnings) warnOnce('otel-globals', w);
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
    logger.warn(
      { stacklight: 'shutdown' },
      `stacklight: shutdown step "${hook}" failed: ${(err as Error)?.message ?? String(err)}`,
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
  if (config.sentry.dsn !== undefined) {
    sentryReady = initSentry({
      dsn: config.sentry.dsn,
      service: config.service,
      env: config.env,
      release: config.version,
      redactor: logging.redactor,
    }).then((ok) => {
      if (!ok) {
        internalError('sentry');
        warnOnce(
          'sentry',
          'Sentry could not be initialised; errors are logged but not sent to Sentry',
        );
      }
      return ok;
    });
    sequence.add('flush', 'sentry', async (deadline) => {
      if (await sentryReady) await closeSentry(Math.max(0, deadline - Date.now()));
    });
  }

  sequence.add('flush', 'spans', () => tracing.shutdown());
  sequence.add('flush', 'logs', () => logging.flush());
  sequence.add('close', 'metrics-server', () =>
    server === undefined
      ? undefined
      : new Promise<void>((resolve) => {
          server!.close(() => resolve());
          server!.closeAllConnections?.();
        }),
  );

  let signalHandler: ((signal: NodeJS.Signals) => void) | undefined;
  const shutdown = async (): Promise<void> => {
    if (signalHandler !== undefined) {
      process.off('SIGTERM', signalHandler);
      process.off('SIGINT', signalHandler);
    }
    await sequence.run(config.shutdown.timeoutMs);
    live = undefined;
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
    defineMetric: room.define,
    captureException: (err, ctx) => sentryCapture(err, ctx),
    redact: <T>(value: T): T => logging.redactor.redactValue(value) as T,
    metricsText,
    metricsHandler,
    ready: () => Promise.all([readyPromise, sentryReady]).then(() => undefined),
    metricsAddress: () => (server?.address() as AddressInfo | null) ?? undefined,
    onShutdown: (phase, name, hook) => sequence.add(phase, name, hook),
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
