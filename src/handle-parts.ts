/**
 * What `init()` builds once and its adapters share through the `Telemetry`
 * handle, without widening the public type: the redactor (the one engine of
 * log lines, label values, spans and Sentry events) and the internal error
 * reporter. Kept beside the handle in a `WeakMap`, so a handle that is
 * dropped takes them along.
 */
import type { InternalErrorCounter, InternalErrors, WarningSink } from './internal-errors.js';
import { createInternalErrors } from './internal-errors.js';
import { createRedactor, type Redactor } from './logging/redact.js';

export interface HandleParts {
  readonly redactor: Redactor;
  readonly errors: InternalErrors;
}

/**
 * The parts of a handle an adapter may be given: `init()`'s handle, or a
 * partial one a test or custom wiring builds (then the parts are made from
 * what it has: its self-metric, its logger, its redaction settings).
 */
export interface HandleLike {
  readonly selfMetrics?: { readonly internalErrorsTotal: InternalErrorCounter };
  readonly logger?: WarningSink;
  readonly config?: {
    readonly logging: { readonly redactKeys: readonly string[]; readonly maxStringLength: number };
  };
}

const shared = new WeakMap<object, HandleParts>();

/** Called by `init()` on the handle it returns. */
export function shareParts(handle: object, parts: HandleParts): void {
  shared.set(handle, parts);
}

/** The parts of `handle`: `init()`'s own, or ones built once from a partial handle. */
export function partsOf(handle: HandleLike): HandleParts {
  let parts = shared.get(handle);
  if (parts === undefined) {
    const logging = handle.config?.logging;
    parts = {
      redactor: createRedactor(
        logging === undefined
          ? {}
          : { keys: logging.redactKeys, maxStringLength: logging.maxStringLength },
      ),
      errors: createInternalErrors({
        counter: handle.selfMetrics?.internalErrorsTotal,
        sink: handle.logger,
      }),
    };
    shared.set(handle, parts);
  }
  return parts;
}
