import type { TraceState } from '@opentelemetry/api';

/**
 * Strict W3C Trace Context `tracestate` parsing, mutation and serialization.
 *
 * Grammar (Level 2, https://www.w3.org/TR/trace-context-2/#tracestate-header):
 *
 * ```abnf
 * list        = list-member 0*31( OWS "," OWS list-member )
 * list-member = key "=" value / OWS
 * key         = ( lcalpha / DIGIT ) 0*255( keychar )
 * keychar     = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
 * value       = 0*255( chr ) nblk-chr
 * chr         = %x20 / nblk-chr
 * nblk-chr    = %x21-2B / %x2D-3C / %x3E-7E
 * ```
 *
 * Level 2 folds Level 1's simple and multi-tenant keys into one rule: `foo@`,
 * `foo@@bar`, `1a` and a 256-character key are valid; a key starting with
 * `@` (or any character but a lowercase letter or a digit) is not.
 *
 * Decisions where the spec leaves room (all pinned by tests):
 *
 * - **Duplicate keys keep the first.** A later member with a key already seen
 *   is dropped; the rest of the list stays (Level 2). It does not count
 *   toward the 32-member limit.
 * - **Other invalid input means dropped whole.** Any malformed member or
 *   more than 32 members makes the whole header invalid; it is not propagated
 *   (W3C test suite). Level 1 lets vendors merely discard extra members; we
 *   do not, so a broken upstream is visible, not half-kept.
 * - **Empty and whitespace-only members** are allowed, ignored, and do not
 *   count toward the 32-member limit (they appear when several headers are
 *   combined).
 * - **OWS normalisation.** Spaces and tabs around members are dropped, as are
 *   empty members; a value keeps its leading spaces (they are part of it).
 *   Input that is already canonical (no OWS, no empty members, ≤ 512 chars) is
 *   re-emitted as the very same string, byte for byte, without re-building it.
 * - **512-character limit.** Parsing accepts any valid list, but
 *   {@link TraceStateList.serialize} emits at most 512 characters (the spec's
 *   "SHOULD propagate at least" figure), truncating whole entries by the
 *   spec's rule: entries longer than 128 characters go first (from the end),
 *   then entries from the end of the list. `get()` still sees every entry.
 * - **Input cap.** Values longer than {@link TRACESTATE_MAX_INPUT_LENGTH} are
 *   rejected without scanning, which bounds the work a hostile header can cause.
 */

/** Maximum number of list members (spec). */
export const TRACESTATE_MAX_MEMBERS = 32;

/** Maximum length `serialize()` emits; longer lists are truncated by the spec's rules. */
export const TRACESTATE_MAX_LENGTH = 512;

/**
 * Longest raw (combined) header we scan. The longest valid list without
 * whitespace is 32 × (256 + 1 + 256) + 31 = 16,447 characters; twice that
 * leaves room for generous whitespace while bounding the cost of garbage.
 */
export const TRACESTATE_MAX_INPUT_LENGTH = 32_768;

/** Entries longer than this are truncated first (spec). */
const TRUNCATE_FIRST_ABOVE = 128;

const HTAB = 0x09;
const SPACE = 0x20;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const AT = 0x40;

/**
 * Scratch space for member offsets (key start, `=` index, value end) of the
 * list being parsed. Parsing is synchronous and not re-entrant, so one module
 * buffer serves every call without a per-call allocation.
 */
const offsets = new Int32Array(TRACESTATE_MAX_MEMBERS * 3);

/** Shared by every empty list; never mutated (mutations build new arrays). */
const NO_ENTRIES: readonly string[] = Object.freeze([]);

/**
 * An immutable W3C `tracestate` list that implements OpenTelemetry's
 * `TraceState`, so it can sit in a `SpanContext`. Mutations return a new list:
 * `set` puts the entry at the front (left), as the spec requires for added and
 * updated entries, and keeps the order of everything else.
 *
 * @example
 * const ts = parseTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
 * ts?.set('congo', 'ucfJifl5GOE').serialize();
 * // 'congo=ucfJifl5GOE,rojo=00f067aa0ba902b7'
 */
export class TraceStateList implements TraceState {
  /** Canonical wire form of an unmodified parsed list (entries not split yet). */
  private raw: string | undefined;
  /** Keys and values in wire order (front first); filled lazily from `raw`. */
  private keys: readonly string[] | undefined;
  private values: readonly string[] | undefined;
  private serialized: string | undefined;

  /** An empty list. Use {@link parseTraceState} to read a header. */
  constructor() {
    this.keys = NO_ENTRIES;
    this.values = NO_ENTRIES;
    this.serialized = '';
  }

  /** Number of entries. */
  get size(): number {
    return this.entryKeys().length;
  }

  /**
   * The value for `key`, or `undefined`.
   *
   * @example
   * parseTraceState('congo=t61rcWkgMzE')?.get('congo'); // 't61rcWkgMzE'
   */
  get(key: string): string | undefined {
    const keys = this.entryKeys();
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key) return this.values![i];
    }
    return undefined;
  }

  /**
   * A new list with `key=value` at the front and any previous entry for `key`
   * removed: setting a key is an update, which moves its entry to the front
   * even with the value it had (the spec puts updated keys first). When the
   * front entry is already `key=value`, nothing changes and `this` is returned.
   * An invalid key or value leaves the list unchanged (returns `this`) rather
   * than throwing; check with {@link isValidTraceStateKey} /
   * {@link isValidTraceStateValue} when that matters. Adding a 33rd entry
   * drops the last one, since the list may hold only 32.
   *
   * @example
   * new TraceStateList().set('rojo', '00f067aa0ba902b7').serialize(); // 'rojo=00f067aa0ba902b7'
   */
  set(key: string, value: string): TraceStateList {
    if (!isValidTraceStateKey(key) || !isValidTraceStateValue(value)) return this;
    const keys = this.entryKeys();
    const values = this.values!;
    if (keys[0] === key && values[0] === value) return this;
    const nextKeys = [key];
    const nextValues = [value];
    for (let i = 0; i < keys.length && nextKeys.length < TRACESTATE_MAX_MEMBERS; i++) {
      if (keys[i] === key) continue;
      nextKeys.push(keys[i]!);
      nextValues.push(values[i]!);
    }
    return TraceStateList.fromEntries(nextKeys, nextValues);
  }

  /**
   * A new list without `key` (or `this` when `key` is absent).
   *
   * @example
   * parseTraceState('a=1,b=2')?.unset('a').serialize(); // 'b=2'
   */
  unset(key: string): TraceStateList {
    const keys = this.entryKeys();
    const index = keys.indexOf(key);
    if (index === -1) return this;
    const nextKeys = keys.slice();
    const nextValues = this.values!.slice();
    // Copies, so splicing them leaves this (immutable) list untouched.
    nextKeys.splice(index, 1);
    nextValues.splice(index, 1);
    return TraceStateList.fromEntries(nextKeys, nextValues);
  }

  /**
   * The header value: entries joined by `,` without whitespace, at most
   * {@link TRACESTATE_MAX_LENGTH} characters (see the module notes on
   * truncation). An unmodified canonical input comes back identical.
   *
   * @example
   * parseTraceState(' a=1 ,, b=2 ')?.serialize(); // 'a=1,b=2'
   */
  serialize(): string {
    if (this.raw !== undefined) return this.raw;
    if (this.serialized === undefined) this.serialized = joinTruncated(this.keys!, this.values!);
    return this.serialized;
  }

  /**
   * A copy of the entries in wire order, front first.
   *
   * @example
   * parseTraceState('a=1,b=2')?.entries(); // [['a', '1'], ['b', '2']]
   */
  entries(): Array<[string, string]> {
    const keys = this.entryKeys();
    const out: Array<[string, string]> = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = [keys[i]!, this.values![i]!];
    return out;
  }

  /** Implementation of {@link parseTraceState} (needs the private fields). */
  static parse(value: unknown): TraceStateList | undefined {
    if (typeof value !== 'string' || value.length > TRACESTATE_MAX_INPUT_LENGTH) return undefined;
    const scan = scanList(value);
    if (scan < 0) return undefined;
    const count = scan & COUNT_MASK;
    if (count === 0) return new TraceStateList();
    if ((scan & CANONICAL) !== 0 && value.length <= TRACESTATE_MAX_LENGTH) {
      // Fast path for the common case: keep the string, split only on access.
      const list = new TraceStateList();
      list.raw = value;
      list.keys = undefined;
      list.values = undefined;
      list.serialized = undefined;
      return list;
    }
    // `offsets` is overwritten by the next parse, so materialize now.
    const keys: string[] = new Array(count);
    const values: string[] = new Array(count);
    for (let m = 0; m < count; m++) {
      keys[m] = value.slice(offsets[m * 3]!, offsets[m * 3 + 1]!);
      values[m] = value.slice(offsets[m * 3 + 1]! + 1, offsets[m * 3 + 2]!);
    }
    return TraceStateList.fromEntries(keys, values);
  }

  private static fromEntries(keys: readonly string[], values: readonly string[]): TraceStateList {
    const list = new TraceStateList();
    list.keys = keys;
    list.values = values;
    list.serialized = undefined;
    return list;
  }

  private entryKeys(): readonly string[] {
    if (this.keys === undefined) {
      // `raw` is canonical and validated: plain splitting is exact here.
      const members = this.raw!.split(',');
      const keys: string[] = new Array(members.length);
      const values: string[] = new Array(members.length);
      for (let i = 0; i < members.length; i++) {
        const member = members[i]!;
        const eq = member.indexOf('=');
        keys[i] = member.slice(0, eq);
        values[i] = member.slice(eq + 1);
      }
      this.keys = keys;
      this.values = values;
    }
    return this.keys;
  }
}

/**
 * Parses a (combined) `tracestate` value. Returns `undefined` when the value
 * is invalid, which means it must not be propagated at all; a valid but empty
 * header gives an empty list. Never throws.
 *
 * @example
 * parseTraceState('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE')?.entries();
 * // [['rojo', '00f067aa0ba902b7'], ['congo', 't61rcWkgMzE']]
 * parseTraceState('foo=1,foo=2')?.serialize(); // 'foo=1' (the first occurrence is kept)
 */
export function parseTraceState(value: unknown): TraceStateList | undefined {
  return TraceStateList.parse(value);
}

/**
 * True when `key` is a valid tracestate key (simple or multi-tenant).
 *
 * @example
 * isValidTraceStateKey('tenant@vendor'); // true
 * isValidTraceStateKey('Vendor'); // false
 */
export function isValidTraceStateKey(key: unknown): boolean {
  return typeof key === 'string' && isKeyAt(key, 0, key.length);
}

/**
 * True when `value` is a valid tracestate value: 1–256 printable ASCII
 * characters without `,` or `=`, not ending in a space.
 *
 * @example
 * isValidTraceStateValue('t61rcWkgMzE'); // true
 * isValidTraceStateValue('a=b'); // false
 */
export function isValidTraceStateValue(value: unknown): boolean {
  return (
    typeof value === 'string' &&
    isValueAt(value, 0, value.length) &&
    value.charCodeAt(value.length - 1) !== SPACE
  );
}

/** Flag in {@link scanList}'s result: no OWS and no empty members in the input. */
const CANONICAL = 0x100;
/** Mask for the member count in {@link scanList}'s result (count ≤ 32). */
const COUNT_MASK = 0xff;

/**
 * Validates a whole list, recording member offsets in {@link offsets}.
 * Returns -1 when the list is invalid, else the member count, with
 * {@link CANONICAL} or-ed in when the input is already in wire form.
 */
function scanList(s: string): number {
  const n = s.length;
  let count = 0;
  let from = 0;
  let canonical = n > 0;
  while (from <= n) {
    let to = s.indexOf(',', from);
    if (to === -1) to = n;
    let a = from;
    let b = to;
    while (a < b && isOws(s.charCodeAt(a))) a++;
    while (b > a && isOws(s.charCodeAt(b - 1))) b--;
    if (a === b) {
      canonical = false;
    } else {
      if (a !== from || b !== to) canonical = false;
      const eq = s.indexOf('=', a);
      if (eq === -1 || eq >= b) return -1;
      if (!isKeyAt(s, a, eq) || !isValueAt(s, eq + 1, b)) return -1;
      let duplicate = false;
      for (let m = 0; m < count && !duplicate; m++) {
        duplicate = sameKey(s, offsets[m * 3]!, offsets[m * 3 + 1]!, a, eq);
      }
      if (duplicate) {
        // Level 2: the first occurrence wins; this one is dropped.
        canonical = false;
      } else {
        if (count === TRACESTATE_MAX_MEMBERS) return -1;
        offsets[count * 3] = a;
        offsets[count * 3 + 1] = eq;
        offsets[count * 3 + 2] = b;
        count++;
      }
    }
    from = to + 1;
  }
  return canonical ? count | CANONICAL : count;
}

function sameKey(s: string, a0: number, a1: number, b0: number, b1: number): boolean {
  if (a1 - a0 !== b1 - b0) return false;
  for (let i = 0; i < a1 - a0; i++) {
    if (s.charCodeAt(a0 + i) !== s.charCodeAt(b0 + i)) return false;
  }
  return true;
}

function isOws(c: number): boolean {
  return c === SPACE || c === HTAB;
}

function isLcAlpha(c: number): boolean {
  return c >= 0x61 && c <= 0x7a;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** lcalpha / DIGIT / "_" / "-" / "*" / "/" */
function isKeyChar(c: number): boolean {
  return isLcAlpha(c) || isDigit(c) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f;
}

/** `s[from, to)` is a Level 2 key: `(lcalpha / DIGIT) 0*255(keychar)`, `@` a keychar. */
function isKeyAt(s: string, from: number, to: number): boolean {
  const length = to - from;
  if (length < 1 || length > 256) return false;
  const first = s.charCodeAt(from);
  if (!isLcAlpha(first) && !isDigit(first)) return false;
  for (let i = from + 1; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c !== AT && !isKeyChar(c)) return false;
  }
  return true;
}

/**
 * `s[from, to)` is 1–256 `chr` (0x20–0x7E minus `,` and `=`). The caller has
 * trimmed OWS, so the last character is never a space here.
 */
function isValueAt(s: string, from: number, to: number): boolean {
  const length = to - from;
  if (length < 1 || length > 256) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < SPACE || c > 0x7e || c === COMMA || c === EQUALS) return false;
  }
  return true;
}

/**
 * Joins entries, dropping whole entries until the result fits in
 * {@link TRACESTATE_MAX_LENGTH}: first entries over 128 characters (from the
 * end of the list), then entries from the end.
 */
function joinTruncated(keys: readonly string[], values: readonly string[]): string {
  const n = keys.length;
  let total = n > 0 ? n - 1 : 0;
  for (let i = 0; i < n; i++) total += keys[i]!.length + 1 + values[i]!.length;
  let keep: boolean[] | undefined;
  if (total > TRACESTATE_MAX_LENGTH) {
    keep = new Array<boolean>(n).fill(true);
    let kept = n;
    const drop = (i: number): void => {
      keep![i] = false;
      kept--;
      total -= keys[i]!.length + 1 + values[i]!.length + (kept > 0 ? 1 : 0);
    };
    for (let i = n - 1; i >= 0 && total > TRACESTATE_MAX_LENGTH; i--) {
      if (keys[i]!.length + 1 + values[i]!.length > TRUNCATE_FIRST_ABOVE) drop(i);
    }
    for (let i = n - 1; i >= 0 && total > TRACESTATE_MAX_LENGTH; i--) {
      if (keep[i]) drop(i);
    }
  }
  let out = '';
  for (let i = 0; i < n; i++) {
    if (keep !== undefined && !keep[i]) continue;
    out += (out.length > 0 ? ',' : '') + keys[i]! + '=' + values[i]!;
  }
  return out;
}
