import { createSecretKeyMatcher } from './secret-keys.js';
import { createScrubber, MARKERS, type RedactionKind } from './scrub.js';
import { setOwn, summarizeBytes } from './values.js';

/** Options of `createRedactor`. */
export interface RedactorOptions {
  /**
   * Extra secret key names, added to `DEFAULT_SECRET_KEYS`; matched after the
   * same normalisation (lowercase, `-` and `_` removed).
   * @default []
   */
  keys?: readonly string[];
  /**
   * Strings longer than this many UTF-16 code units are cut and end with
   * `…[TRUNCATED <original length> chars]`.
   * @default 8192
   */
  maxStringLength?: number;
  /**
   * Objects nested deeper than this (the value itself is depth 0) are
   * replaced by `[MaxDepth]`.
   * @default 10
   */
  maxDepth?: number;
  /**
   * At most this many values are visited per `redactValue` call; the rest of
   * an object becomes one `"[MaxNodes]": <keys left out>` property, the rest
   * of an array one `"[MaxNodes] <n> more"` item.
   * @default 1000
   */
  maxNodes?: number;
  /** Called once per replacement, e.g. to count redactions in a self-metric. */
  onRedaction?: (kind: RedactionKind) => void;
}

/** The one redaction engine for log lines, Sentry events and span attributes. */
export interface Redactor {
  /**
   * Returns `value` with secrets replaced, in a form `JSON.stringify` can
   * write. Never mutates `value`; returns `value` itself (no copy) when
   * nothing needed changing. Never throws.
   */
  redactValue(value: unknown): unknown;
  /** Scrubs secrets inside one string and cuts it at `maxStringLength`. */
  redactString(s: string): string;
  /** Whether values under `key` are replaced wholesale. */
  isSecretKey(key: string): boolean;
}

/** Defaults of `RedactorOptions`. */
export const REDACTOR_DEFAULTS = Object.freeze({
  maxStringLength: 8192,
  maxDepth: 10,
  maxNodes: 1000,
});

/** Per-call state: a fresh object per `redactValue` so that re-entrant calls (a getter that logs) do not clash. */
interface WalkState {
  nodes: number;
  /** Objects on the current path, for cycle detection (a DAG is not a cycle). */
  readonly path: object[];
}

/**
 * Creates a redactor. Build one per logger (or per process) at
 * configuration time: the key set and regex callbacks are prepared here so
 * that per-value work is lookups and `indexOf` scans.
 *
 * How values are rewritten (everything JSON would lose or that could leak):
 * strings are scrubbed (`scrub.ts`); values under secret keys become
 * `[REDACTED]`; cycles `[Circular]`; throwing getters `[GetterThrew]`;
 * `toJSON()` is called (and its result walked; a throwing one gives
 * `[Unserializable]`); Buffers and typed arrays become
 * `[Buffer 12 bytes]` / `[Uint8Array 12 bytes]`; Maps become objects and Sets
 * arrays; Errors `{ type, message, code? }` (stacks only through
 * `serializeError`); BigInt and Symbols strings. Dates, numbers, booleans and
 * functions are left to `JSON.stringify`.
 *
 * @example
 * const r = createRedactor({ keys: ['ssn'] });
 * r.redactValue({ headers: { Authorization: 'Bearer abc' }, ssn: 1 });
 * // → { headers: { Authorization: '[REDACTED]' }, ssn: '[REDACTED]' }
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const maxDepth = options.maxDepth ?? REDACTOR_DEFAULTS.maxDepth;
  const maxNodes = options.maxNodes ?? REDACTOR_DEFAULTS.maxNodes;
  const onRedaction = options.onRedaction;
  const isSecretKey = createSecretKeyMatcher(options.keys);
  const scrub = createScrubber({
    isSecretKey,
    maxStringLength: options.maxStringLength ?? REDACTOR_DEFAULTS.maxStringLength,
    onRedaction,
  });

  function count(kind: RedactionKind): void {
    if (onRedaction === undefined) return;
    try {
      onRedaction(kind);
    } catch {
      // A failing counter hook must not cost the log line.
    }
  }

  function walk(value: unknown, depth: number, st: WalkState): unknown {
    st.nodes += 1;
    switch (typeof value) {
      case 'string':
        return scrub(value);
      case 'object':
        return value === null ? null : walkObject(value, depth, st);
      case 'bigint':
        return value.toString();
      case 'symbol':
        return value.toString();
      default:
        // number, boolean, undefined, function: JSON handles (or drops) them.
        return value;
    }
  }

  function walkObject(obj: object, depth: number, st: WalkState): unknown {
    if (st.path.includes(obj)) {
      count('circular');
      return MARKERS.circular;
    }
    if (depth >= maxDepth) {
      count('max_depth');
      return MARKERS.maxDepth;
    }
    try {
      if (obj instanceof Date) return obj;
      if (ArrayBuffer.isView(obj)) return summarizeBytes(obj);
      if (obj instanceof ArrayBuffer) return `[ArrayBuffer ${obj.byteLength} bytes]`;
      st.path.push(obj);
      try {
        return walkContainer(obj, depth, st);
      } finally {
        st.path.pop();
      }
    } catch {
      // Revoked proxies and exotic hosts throw on the most basic inspection.
      return MARKERS.unserializable;
    }
  }

  function walkContainer(obj: object, depth: number, st: WalkState): unknown {
    if (Array.isArray(obj)) return walkArray(obj, depth, st);
    if (obj instanceof Map) return walkEntries(obj.entries(), depth, st);
    if (obj instanceof Set) return walkArray([...obj], depth, st, true);
    if (obj instanceof Error) return walkError(obj, depth, st);
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      let json: unknown;
      try {
        json = toJSON.call(obj);
      } catch {
        return MARKERS.unserializable;
      }
      // The result replaces the object either way, so "changed" is moot.
      return walk(json, depth, st);
    }
    return walkKeys(obj as Record<string, unknown>, depth, st);
  }

  function walkArray(
    arr: readonly unknown[],
    depth: number,
    st: WalkState,
    copied = false,
  ): unknown {
    let out: unknown[] | undefined = copied ? (arr as unknown[]) : undefined;
    const n = arr.length;
    // Set when the previous item names a secret: `['--token', X]` (argv),
    // `['Cookie', 'sid=…']` (rawHeaders), `['authorization', X]` (entries).
    let secretNext = false;
    for (let i = 0; i < n; i++) {
      if (st.nodes >= maxNodes) {
        count('max_nodes');
        out ??= arr.slice(0, i);
        out.length = i;
        out.push(`${MARKERS.maxNodes} ${n - i} more`);
        return out;
      }
      const v = arr[i];
      let r: unknown;
      if (secretNext && v !== undefined && v !== null && v !== MARKERS.redacted) {
        st.nodes += 1;
        count('key');
        r = MARKERS.redacted;
      } else r = walk(v, depth + 1, st);
      secretNext = typeof v === 'string' && namesSecret(v, i, n);
      if (r !== v) {
        out ??= arr.slice(0, i);
        out[i] = r;
      } else if (out !== undefined) out[i] = v;
    }
    return out ?? arr;
  }

  /**
   * Whether array item `s` at `i` (of `n`) names a secret for the next item:
   * a command-line flag (`--password`, `-token`; not `--password=x`, which
   * the key=value rule scrubs), or a header or key name at an even index of
   * an even-length array (Node's `rawHeaders`, `[key, value]` entries).
   */
  function namesSecret(s: string, i: number, n: number): boolean {
    if (i + 1 >= n || s.length === 0 || s.length > 64) return false;
    if (s.charCodeAt(0) === 45 /* - */) {
      const name = s.replace(/^--?/, '');
      return name.length > 0 && !name.includes('=') && isSecretKey(name);
    }
    return (n & 1) === 0 && (i & 1) === 0 && PAIR_NAME.test(s) && isSecretKey(s);
  }

  function walkKeys(obj: Record<string, unknown>, depth: number, st: WalkState): unknown {
    const keys = Object.keys(obj);
    // `{ name: 'Authorization', value: X }` (HAR and fetch header lists),
    // `{ key: 'password', value: X }`: the value is secret.
    const secretValue = keys.length <= 8 && namedSecret(obj);
    let out: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      if (st.nodes >= maxNodes) {
        count('max_nodes');
        out ??= copyPrefix(obj, keys, i);
        out[MARKERS.maxNodes] = keys.length - i;
        return out;
      }
      // An e-mail address or a token used as a key is scrubbed like a value.
      const sk = k.length < 3 ? k : scrub(k);
      let v: unknown;
      let r: unknown;
      try {
        v = obj[k];
        r =
          secretValue && k === 'value' && v !== undefined && v !== null
            ? redactedOnce(v, st)
            : redactEntry(k, v, depth, st);
      } catch {
        v = undefined;
        r = MARKERS.getterThrew;
      }
      if (r !== v || sk !== k) {
        out ??= copyPrefix(obj, keys, i);
        setOwn(out, sk, r);
      } else if (out !== undefined) setOwn(out, k, v);
    }
    return out ?? obj;
  }

  function namedSecret(obj: Record<string, unknown>): boolean {
    if (!Object.prototype.hasOwnProperty.call(obj, 'value')) return false;
    try {
      const name = obj['name'] ?? obj['key'];
      return typeof name === 'string' && isSecretKey(name);
    } catch {
      return false;
    }
  }

  function redactedOnce(v: unknown, st: WalkState): unknown {
    st.nodes += 1;
    if (v === MARKERS.redacted) return v;
    count('key');
    return MARKERS.redacted;
  }

  function redactEntry(key: string, v: unknown, depth: number, st: WalkState): unknown {
    if (v !== undefined && v !== null && isSecretKey(key)) {
      st.nodes += 1;
      if (v === MARKERS.redacted) return v;
      count('key');
      return MARKERS.redacted;
    }
    return walk(v, depth + 1, st);
  }

  function walkEntries(
    entries: Iterable<[unknown, unknown]>,
    depth: number,
    st: WalkState,
  ): unknown {
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      if (st.nodes >= maxNodes) {
        count('max_nodes');
        out[MARKERS.maxNodes] = true;
        break;
      }
      const k = String(key);
      setOwn(out, k.length < 3 ? k : scrub(k), redactEntry(k, v, depth, st));
    }
    return out;
  }

  /** Every string field of an Error is scrubbed: `name`, `message`, `code` and its own fields. */
  function walkError(err: Error, depth: number, st: WalkState): unknown {
    const out: Record<string, unknown> = {
      type: scrub(String(err.name)),
      message: scrub(String(err.message)),
    };
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') out['code'] = scrub(String(code));
    const cause = (err as { cause?: unknown }).cause;
    if (cause !== undefined) out['cause'] = walk(cause, depth + 1, st);
    for (const k of Object.keys(err)) {
      if (k === 'name' || k === 'message' || k === 'stack' || k === 'code' || k === 'cause')
        continue;
      let v: unknown;
      try {
        v = (err as unknown as Record<string, unknown>)[k];
      } catch {
        v = MARKERS.getterThrew;
      }
      setOwn(out, k.length < 3 ? k : scrub(k), redactEntry(k, v, depth, st));
    }
    return out;
  }

  return {
    redactValue(value: unknown): unknown {
      try {
        return walk(value, 0, { nodes: 0, path: [] });
      } catch {
        return MARKERS.unserializable;
      }
    },
    redactString: scrub,
    isSecretKey,
  };
}

/** A header or field name in a flat `[name, value, …]` array. */
const PAIR_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** Copies keys `[0, end)` of `obj` (re-reading them; a throwing getter is marked). */
function copyPrefix(
  obj: Record<string, unknown>,
  keys: readonly string[],
  end: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let j = 0; j < end; j++) {
    const k = keys[j] as string;
    let v: unknown;
    try {
      v = obj[k];
    } catch {
      v = MARKERS.getterThrew;
    }
    setOwn(out, k, v);
  }
  return out;
}
