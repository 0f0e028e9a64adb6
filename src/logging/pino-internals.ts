import pino from 'pino';

/** pino's internal symbols (`pino.symbols`), through which stacklight reads a logger. */
export const S = pino.symbols;

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
