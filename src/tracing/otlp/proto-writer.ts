/**
 * A minimal protobuf writer for OTLP, over one growable Buffer that is reused
 * from message to message (no allocation per field).
 *
 * Nested (length-delimited) messages reserve one byte for their length and
 * shift their content in the rare case it turns out to need more (≥ 128
 * bytes), so most attributes and strings are written in a single pass.
 */
export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** Nibble value of an ASCII hex digit, 255 for anything else. */
const HEX = new Uint8Array(128).fill(255);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

const TWO_32 = 0x1_0000_0000;

/**
 * `seconds * 1e9 + nanos` as its low and high 32 bits, exactly: the product
 * exceeds 2^53, so seconds are split at 2^16 and the halves carried.
 */
function splitNanos(seconds: number, nanos: number): [number, number] {
  const high = Math.floor(seconds / 0x10000) * 1e9; // × 2^16
  const low = (seconds % 0x10000) * 1e9 + nanos;
  const mid = (high % 0x10000) * 0x10000 + low;
  return [mid % TWO_32, Math.floor(high / 0x10000) + Math.floor(mid / TWO_32)];
}

export class ProtoWriter {
  buf: Buffer;
  pos = 0;
  /** The last whole second {@link hrTime} split, and its nanoseconds' low and high 32 bits. */
  private hrSeconds = -1;
  private hrLow = 0;
  private hrHigh = 0;

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }

  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written since the last reset. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    return out;
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 64);
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * A non-negative integer below 2^64 (exact for every integer a double
   * holds: above 2^53 doubles are integers, and the division by 128 and the
   * low bits stay exact).
   */
  varint(value: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    let v = value;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v = v >= TWO_32 ? Math.floor(v / 128) : v >>> 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  /** A signed 64-bit integer (int64: negatives take ten bytes, two's complement). */
  int64(value: number): void {
    if (value >= 0) {
      this.varint(value);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  tag(field: number, wire: number): void {
    const t = (field << 3) | wire;
    if (t < 0x80) {
      // Fields 1–15: one byte (every field stacklight writes).
      this.ensure(1);
      this.buf[this.pos++] = t;
    } else this.varint(t);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /**
   * An OpenTelemetry `HrTime` ([seconds, nanoseconds]) as fixed64 nanoseconds
   * since the epoch. A fractional nanosecond part is truncated, as
   * OpenTelemetry's `hrTimeToNanos` (its OTLP/JSON serializer) does: added as
   * it is, its fraction could round the sum up to the next nanosecond.
   */
  hrTime(time: readonly [number, number]): void {
    const seconds = time[0];
    // NaN stays NaN and fails the range test below.
    const nanos = Math.trunc(time[1]);
    let lo: number;
    let hi: number;
    if (nanos >= 0 && nanos < 1e9 && (seconds === this.hrSeconds || this.splitSecond(seconds))) {
      // The second's split (kept from the last time in the same second: a
      // span's start and end, the spans of one busy second) plus the nanos.
      lo = this.hrLow + nanos;
      hi = this.hrHigh;
      if (lo >= TWO_32) {
        lo -= TWO_32;
        hi += 1;
      }
    } else {
      [lo, hi] = splitNanos(seconds, nanos);
    }
    this.ensure(8);
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  /** Keeps the split of a whole second for {@link hrTime}; false for a second it cannot keep. */
  private splitSecond(seconds: number): boolean {
    if (!(Number.isInteger(seconds) && seconds >= 0 && seconds < 2 ** 34)) return false;
    [this.hrLow, this.hrHigh] = splitNanos(seconds, 0);
    this.hrSeconds = seconds;
    return true;
  }

  /** Starts a length-delimited field's payload; pass the result to {@link end}. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends a payload started by {@link begin}, writing its length in front of it. */
  end(start: number): void {
    const len = this.pos - start - 1;
    if (len < 0x80) {
      this.buf[start] = len;
      return;
    }
    let size = 1;
    for (let v = len; v > 0x7f; v = Math.floor(v / 128)) size++;
    this.ensure(size - 1);
    this.buf.copyWithin(start + size, start + 1, this.pos);
    this.pos += size - 1;
    const p = this.pos;
    this.pos = start;
    this.varint(len);
    this.pos = p;
  }

  /**
   * Starts a payload expected to be 128 bytes to 16 KiB long (a span): two
   * bytes reserved for its length, so that {@link endWide} usually has
   * nothing to move.
   */
  beginWide(): number {
    this.ensure(2);
    const start = this.pos;
    this.pos += 2;
    return start;
  }

  /** Ends a payload started by {@link beginWide}: the same bytes as begin/end. */
  endWide(start: number): void {
    const len = this.pos - start - 2;
    if (len >= 0x80 && len < 0x4000) {
      this.buf[start] = (len & 0x7f) | 0x80;
      this.buf[start + 1] = len >>> 7;
      return;
    }
    // Shorter or longer (rare): back to one reserved byte, then end() as usual.
    this.buf.copyWithin(start + 1, start + 2, this.pos);
    this.pos -= 1;
    this.end(start);
  }

  string(value: string): void {
    const n = value.length;
    if (n < 0x80) {
      // Short ASCII (names, routes, keys): byte per char, no encoder call.
      this.ensure(n + 1);
      const b = this.buf;
      const start = this.pos;
      let p = start + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) break;
        b[p++] = c;
      }
      if (i === n) {
        b[start] = n;
        this.pos = p;
        return;
      }
    }
    const start = this.begin();
    this.ensure(n * 3);
    this.pos += this.buf.write(value, this.pos);
    this.end(start);
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /**
   * A lowercase or uppercase hex id as `bytes` of `size` bytes. An id of the
   * wrong length or with a non-hex character is written as all zeroes (an
   * invalid id, which a collector rejects, rather than a misparsed one).
   */
  hexId(hex: string, size: number): void {
    this.ensure(size + 1);
    const b = this.buf;
    let p = this.pos;
    b[p++] = size;
    let ok = hex.length === size * 2;
    for (let i = 0; ok && i < size; i++) {
      const hi = HEX[hex.charCodeAt(2 * i)] ?? 255;
      const lo = HEX[hex.charCodeAt(2 * i + 1)] ?? 255;
      if ((hi | lo) > 15) ok = false;
      else b[p + i] = (hi << 4) | lo;
    }
    if (!ok) b.fill(0, p, p + size);
    this.pos = p + size;
  }

  /** Raw bytes, already encoded. */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Bytes [`start`, `end`) of `source`, already encoded (no view made). */
  rawRange(source: Buffer, start: number, end: number): void {
    this.ensure(end - start);
    this.pos += source.copy(this.buf, this.pos, start, end);
  }
}
