/**
 * Shared test helpers for log output: capture the NDJSON lines a logger
 * writes and validate each against the checked-in log line schema
 * (`src/logging/log-schema.json`, JSON Schema draft 2020-12).
 *
 * @example
 * const capture = createLogCapture();
 * const { logger } = createLogger({ ...setup, destination: capture.stream });
 * logger.info({ status: 200 }, 'done');
 * const [line] = capture.lines();      // parsed, and already schema-validated
 * expect(line).toMatchObject({ status: 200, msg: 'done' });
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

/** A parsed log line. */
export type LogLine = Record<string, unknown>;

/** What `createLogCapture` returns. */
export interface LogCapture {
  /** Pass as the logger's `destination`. Writes are captured synchronously. */
  stream: Writable;
  /**
   * Every complete line written so far, parsed. Each line is checked with
   * `expectValidLogLine` first, so a test that reads lines also proves they
   * match the schema.
   */
  lines(): LogLine[];
  /** The raw text written so far (for "secret is absent" checks). */
  text(): string;
  /** Forgets everything captured. */
  clear(): void;
}

const SCHEMA_URL = new URL('../../src/logging/log-schema.json', import.meta.url);
// ISO-8601 UTC with milliseconds, as the logger writes it. Defined here
// rather than pulling in ajv-formats for one format.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

let validator: ValidateFunction | undefined;

/** The compiled validator of the checked-in schema (compiled once per test file). */
export function logLineValidator(): ValidateFunction {
  if (validator === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    ajv.addFormat('date-time', DATE_TIME);
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object);
  }
  return validator;
}

/** Asserts that `line` (a parsed log line) validates against the log schema. */
export function expectValidLogLine(line: unknown): void {
  const validate = logLineValidator();
  const ok = validate(line);
  expect(
    ok,
    `log line does not match the schema: ${JSON.stringify(validate.errors)}\n${JSON.stringify(line)}`,
  ).toBe(true);
}

/** Creates a capturing destination for a logger. */
export function createLogCapture(): LogCapture {
  let text = '';
  const stream = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      callback();
    },
  });
  return {
    stream,
    text: () => text,
    lines() {
      const out: LogLine[] = [];
      for (const raw of text.split('\n')) {
        if (raw === '') continue;
        const line = JSON.parse(raw) as LogLine;
        expectValidLogLine(line);
        out.push(line);
      }
      return out;
    },
    clear() {
      text = '';
    },
  };
}
