import { tracingChannel } from 'node:diagnostics_channel';
import type pino from 'pino';
import { ASJSON_CHANNEL, S, type PinoInternals } from '../internals/pino.js';
import { TOP_LEVEL_FIELDS } from './schema.js';
import { MARKERS } from './scrub.js';

/**
 * The JSON text of a line object, written by stacklight instead of pino's
 * generic `asJson`, for the lines of `createLogger`'s loggers.
 *
 * Why: pino's `asJson` serves every configuration, so for each key of each
 * line it runs a `for…in` with `hasOwnProperty`, looks the key up in the
 * serializers and the redact stringifiers, and escapes the key itself. Our
 * line objects only ever carry schema fields (the mixin moves every other
 * key under `extra`), so the `,"key":` text of each is built once, here,
 * and a line is one pass over its own keys (bench/NOTES.md has what it
 * saved).
 *
 * The text is exactly pino's (a test writes a corpus of lines both ways and
 * compares them): same key order, same escaping (`jsonString`), nested
 * values through pino's own `stringify`, the message through the logger's
 * `msg` serializer. Whatever could make pino write something else sends the
 * line to pino's `asJson`: a child with its own serializers, `redact` paths
 * or `formatters.log`, a subscriber of pino's `pino_asJson` tracing channel,
 * a key with no prepared text.
 */

const asJsonChannel = tracingChannel(ASJSON_CHANNEL);

/** The fields of a line whose object could not be read, as the mixin marks them. */
const UNSERIALIZABLE = `,"extra":{"fields":"${MARKERS.unserializable}"}`;

/** Strings longer than this go straight to JSON.stringify, as in pino. */
const SCAN_MAX_LENGTH = 100;

/**
 * A JSON string literal, byte for byte what pino writes for a string value:
 * up to 100 characters, printable text is quoted as is with only `"` and `\`
 * escaped; a control character, or a longer string, goes through
 * `JSON.stringify`.
 */
export function jsonString(s: string): string {
  if (s.length > SCAN_MAX_LENGTH) return JSON.stringify(s);
  let escape = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) return JSON.stringify(s);
    if (c === 0x22 || c === 0x5c) escape = true;
  }
  // Not JSON.stringify here: it would also escape a lone surrogate, which
  // pino writes as is.
  return escape ? '"' + s.replace(/["\\]/g, '\\$&') + '"' : '"' + s + '"';
}

/**
 * Replaces `asJson` on `root` (a logger just made by `createLogger`; its
 * children inherit it) with the direct writer, unless the root itself has
 * `redact` paths, a `formatters.log` or a `nestedKey` — then pino's stays.
 * `declared`: the service's own fields (`logging.fields`), top-level keys too.
 */
export function installLineJson(logger: pino.Logger, declared: readonly string[] = []): void {
  const root = logger as PinoInternals;
  const pinoAsJson = root[S.asJsonSym];
  const serializers = root[S.serializersSym];
  const stringifiers = root[S.stringifiersSym];
  const messageKey = root[S.messageKeySym];
  const errorKey = root[S.errorKeySym];
  if (
    Reflect.ownKeys(stringifiers).length > 0 ||
    root[S.formattersSym].log !== undefined ||
    root[S.nestedKeySym]
  ) {
    return;
  }
  // `,"key":` of every top-level schema field pino would write unchanged:
  // not one with a serializer of its own (pino would call it).
  const prefixes = new Map<string, string>();
  for (const key of [...TOP_LEVEL_FIELDS, ...declared]) {
    if (serializers[key] === undefined && key !== errorKey) prefixes.set(key, `,"${key}":`);
  }
  const msgSerializer = serializers[messageKey];
  const msgPrefix = `,"${messageKey}":`;

  function stacklightAsJson(
    this: PinoInternals,
    obj: object,
    msg: unknown,
    num: number,
    time: string,
  ): string {
    if (
      this[S.serializersSym] !== serializers ||
      this[S.stringifiersSym] !== stringifiers ||
      this[S.formattersSym].log !== undefined ||
      asJsonChannel.hasSubscribers
    ) {
      return pinoAsJson.call(this, obj, msg, num, time);
    }
    let props: string | undefined;
    try {
      props = propsText(this, obj, prefixes);
    } catch {
      // A getter of the caller's object that threw on this second read (the
      // mixin's read went through): pino's asJson would throw out of the
      // log call. The line is written, its fields marked.
      props = UNSERIALIZABLE;
    }
    if (props === undefined) return pinoAsJson.call(this, obj, msg, num, time);
    let m = '';
    if (msg !== undefined) {
      const value = msgSerializer === undefined ? msg : msgSerializer(msg);
      const text = valueText(this, value);
      if (text !== undefined) m = msgPrefix + text;
    }
    return this[S.lsCacheSym][num]! + time + this[S.chindingsSym] + props + m + this[S.endSym];
  }
  Object.defineProperty(root, S.asJsonSym, {
    value: stacklightAsJson,
    writable: true,
    configurable: true,
  });
}

/**
 * `,"k1":v1,"k2":v2…` of the own enumerable keys of `obj`, in pino's order
 * (`Object.keys` order is `for…in` order for own keys); `undefined` when a
 * key has no prepared text, so that pino writes the line.
 */
function propsText(
  logger: PinoInternals,
  obj: object,
  prefixes: ReadonlyMap<string, string>,
): string | undefined {
  const keys = Object.keys(obj);
  let out = '';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const prefix = prefixes.get(key);
    if (prefix === undefined) return undefined;
    const text = valueText(logger, (obj as Record<string, unknown>)[key]);
    if (text !== undefined) out += prefix + text;
  }
  return out;
}

/** A value's JSON text as pino writes it; `undefined` for what pino leaves out. */
function valueText(logger: PinoInternals, value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      // The mixin moves non-finite numbers under `extra`; kept for parity.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
      return undefined;
    default:
      return logger[S.stringifySym](value, logger[S.stringifySafeSym]);
  }
}
