/**
 * pino internals stacklight reads (none of them is pino's public API):
 *
 * - `pino.symbols` — the symbols below, on a logger instance:
 *   `asJsonSym` (replaced on the root logger by logging/line-json.ts),
 *   `lsCacheSym`, `chindingsSym`, `timeSym`, `endSym`, `messageKeySym`,
 *   `errorKeySym`, `serializersSym`, `stringifiersSym`, `stringifySym`,
 *   `stringifySafeSym`, `formattersSym`, `nestedKeySym` (the line's text
 *   pieces and what decides whether pino would write it differently),
 *   `streamSym`, `needsMetadataGsym`, `hooksSym` (logging/request-line.ts
 *   writes the request line straight into pino's stream);
 * - the name of pino's `pino_asJson` tracing channel (a subscriber sends
 *   every line back to pino's `asJson`);
 * - the text pino writes for a line (key order, escaping of strings up to
 *   100 characters): line-json.ts and request-line.ts write the same bytes;
 *   test/logging/line-json.test.ts and request-line.test.ts compare them.
 *
 * Public path (pino outside the tested range, or its version unreadable):
 * neither writer is installed; pino serializes and writes every line
 * itself. Lines are the same JSON; the log path costs more CPU.
 *
 * Relied on also on the public path, through public API: `mixin(obj, level,
 * logger)` receives the logger, and a child logger reads its parent's own
 * properties through the prototype chain (pino builds children with
 * `Object.create`), so the wrapped `child`/`setBindings` and the bound-field
 * state of logging/line.ts reach grandchildren.
 */
import pino from 'pino';
import { installedVersion, lazyGuard, type GuardSpec } from './guard.js';

/** pino's internal symbols (`pino.symbols`), through which stacklight reads a logger. */
export const S = pino.symbols;

/** The name of pino's tracing channel around `asJson` (each line is published on it). */
export const ASJSON_CHANNEL = 'pino_asJson';

/** The pino versions CI runs the fast log path on (lockfile and newest published). */
export const PINO: GuardSpec = {
  name: 'pino',
  tested: [{ from: '10.4.0', below: '11.0.0' }],
  fastPath: "stacklight's direct log line writer",
  publicPath: "pino's own serializer and stream writes",
  consequence: 'same lines, more CPU per line',
};

/** The decision for the pino stacklight loads (read once). */
export const pinoGuard = lazyGuard(PINO, () => installedVersion('pino', import.meta.url));

/** What pino's `asJson` is called with (see line-json.ts). */
export type AsJson = (
  this: PinoInternals,
  obj: object,
  msg: unknown,
  num: number,
  time: string,
) => string;

/**
 * The parts of a pino logger that stacklight's line writers read (the
 * serializer in line-json.ts, the request line in request-line.ts), typed in
 * one place. Set when pino builds the logger; only the bindings
 * (`chindingsSym`) change later, with `setBindings`.
 */
export type PinoInternals = pino.Logger & {
  [S.asJsonSym]: AsJson;
  [S.lsCacheSym]: Record<number, string>;
  [S.chindingsSym]: string;
  [S.timeSym]: () => string;
  [S.streamSym]: pino.DestinationStream & { [S.needsMetadataGsym]?: boolean };
  [S.hooksSym]: { streamWrite?: unknown };
  [S.serializersSym]: Record<string, ((v: unknown) => unknown) | undefined>;
  [S.stringifiersSym]: object;
  [S.stringifySym]: (value: unknown, safe: unknown) => string | undefined;
  [S.stringifySafeSym]: unknown;
  [S.formattersSym]: { log?: unknown };
  [S.nestedKeySym]: string | null;
  [S.endSym]: string;
  [S.messageKeySym]: string;
  [S.errorKeySym]: string;
};
