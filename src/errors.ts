import { createRedactor, type Redactor } from './logging/redact.js';
import { shapeOf } from './logging/scrub.js';

/**
 * Stable error codes. A code never changes meaning once released; new kinds
 * get new codes.
 */
export type StacklightErrorCode = 'STACKLIGHT_CONFIG' | 'STACKLIGHT_METRIC' | 'STACKLIGHT_STATE';

const BRAND = Symbol.for('stacklight.error');

/** Base class of every error stacklight throws. */
export class StacklightError extends Error {
  readonly code: StacklightErrorCode;

  constructor(code: StacklightErrorCode, message: string, options?: { cause?: unknown }) {
    super(`stacklight: ${message}`, options);
    this.name = 'StacklightError';
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * A configuration option or environment variable has a value that is not
 * allowed. Thrown by `init()` only.
 */
export class ConfigError extends StacklightError {
  /** The option path (`tracing.sampleRatio`) or variable name (`OTEL_TRACES_SAMPLER_ARG`). */
  readonly option: string;
  /**
   * The offending value as given — except that a secret in it (a token, a
   * password, an e-mail address) is shown by its shape only:
   * `"authorization=Bearer …(41 chars)"`. The message shows the same.
   */
  readonly value: unknown;

  constructor(option: string, value: unknown, allowed: string) {
    const shown = secretShape(value);
    super('STACKLIGHT_CONFIG', `${option} must be ${allowed}, got ${describe(shown)}`);
    this.name = 'ConfigError';
    this.option = option;
    this.value = shown;
  }
}

/** A metric definition or registration is invalid (duplicate name, bad labels). */
export class MetricError extends StacklightError {
  /**
   * Ids of the naming/definition rules the definition breaks (`counter-total`,
   * `reserved-label`, … see docs/lint/index.md); empty for other problems
   * (a duplicate name).
   */
  readonly rules: readonly string[];

  /** A secret-shaped part of `message` (a label value, a name) is shown by its shape only. */
  constructor(message: string, rules: readonly string[] = []) {
    super('STACKLIGHT_METRIC', secretShape(message) as string);
    this.name = 'MetricError';
    this.rules = rules;
  }
}

/**
 * Tells a stacklight error from any other without `instanceof`, so that it
 * also works when an ESM and a CJS copy of stacklight are both loaded.
 */
export function isStacklightError(value: unknown): value is StacklightError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true
  );
}

/** Renders a given value for an error message: strings quoted, the rest as JSON. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json.length > 200 ? `${json.slice(0, 200)}…` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

let shaper: Redactor | undefined;

/**
 * `value` with every secret the scrubbing engine finds shown by its shape:
 * strings as {@link shapeOf} gives them (`…(41 chars)` for each secret part),
 * objects with secrets replaced by `[REDACTED]`. The same value when there
 * is nothing to hide.
 */
export function secretShape(value: unknown): unknown {
  try {
    shaper ??= createRedactor();
    if (typeof value === 'string') return shapeOf(value, shaper.redactString(value));
    if (typeof value === 'object' && value !== null) return shaper.redactValue(value);
    return value;
  } catch {
    return '[Unserializable]';
  }
}
