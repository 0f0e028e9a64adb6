import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { DiagnosticsLevel } from '../types.js';

const LEVELS: Record<DiagnosticsLevel, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/**
 * Forwards OpenTelemetry's `diag` messages at `level` to stacklight's logger
 * (`"stacklight":"otel-diag"`), as `OTEL_LOG_LEVEL` asks. Returns the
 * function that unregisters it (at shutdown).
 */
const OTEL_DIAG_TAG = { extra: { stacklight: 'otel-diag' } };

export function forwardOtelDiag(logger: Logger, level: DiagnosticsLevel): () => void {
  const line =
    (write: (obj: object, msg: string) => void) =>
    (message: string, ...args: unknown[]): void => {
      const rest =
        args.length > 0
          ? ` ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`
          : '';
      // Under `extra` directly: the tag is not a schema field.
      write(OTEL_DIAG_TAG, `opentelemetry: ${message}${rest}`);
    };
  const forward: DiagLogger = {
    error: line((o, m) => logger.error(o, m)),
    warn: line((o, m) => logger.warn(o, m)),
    info: line((o, m) => logger.info(o, m)),
    debug: line((o, m) => logger.debug(o, m)),
    verbose: line((o, m) => logger.trace(o, m)),
  };
  diag.setLogger(forward, { logLevel: LEVELS[level], suppressOverrideMessage: true });
  return () => diag.disable();
}
