import type pino from 'pino';
import { createLogger, type LoggerHandle, type LoggerSetup } from '../../src/logging/index.js';
import type { LoggerGuards } from '../../src/logging/logger.js';
import { createLogCapture, type LogCapture } from '../helpers/log-capture.js';

/** A logger writing to a capture, with the violations it reported. */
export interface TestLogger extends LoggerHandle {
  capture: LogCapture;
  violations: Array<[string, string]>;
  redactions: string[];
}

/**
 * A logger of service `edge`, env `test`, level `trace`, writing to a
 * capture; `guards` as `createLogger` takes them (default: the installed versions').
 */
export function testLogger(
  overrides: Partial<LoggerSetup> = {},
  guards?: LoggerGuards,
): TestLogger {
  const capture = createLogCapture();
  const violations: Array<[string, string]> = [];
  const redactions: string[] = [];
  const handle = createLogger(
    {
      service: 'edge',
      env: 'test',
      region: 'eu-west-1',
      level: 'trace',
      stackTraces: false,
      destination: capture.stream,
      onSchemaViolation: (kind, field) => violations.push([kind, field]),
      onRedaction: (kind) => redactions.push(kind),
      ...overrides,
    },
    guards,
  );
  return { ...handle, capture, violations, redactions };
}

/** Calls `fn` on the logger and returns the single line it wrote, parsed and validated. */
export function oneLine(t: TestLogger, fn: (logger: pino.Logger) => void): Record<string, unknown> {
  t.capture.clear();
  fn(t.logger);
  const lines = t.capture.lines();
  if (lines.length !== 1)
    throw new Error(`expected one line, got ${lines.length}: ${t.capture.text()}`);
  return lines[0] as Record<string, unknown>;
}

/** The fields of the spec's typical request line (nothing to redact). */
export const TYPICAL_FIELDS = Object.freeze({
  requestId: 'r-1',
  route: '/users/:id',
  method: 'GET',
  status: 200,
  latency_ms: 12.5,
  userId: 'u_1',
});
