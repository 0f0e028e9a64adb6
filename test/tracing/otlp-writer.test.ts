/**
 * The protobuf writer under the OTLP encoder, byte by byte: every field a
 * collector reads is one of these primitives, so each is pinned to the exact
 * bytes the protobuf wire format gives it (varints at every length boundary,
 * int64 two's complement, little-endian fixed32/fixed64/double, UTF-8
 * strings, length prefixes of 1 to 4 bytes), and to the same bytes whatever
 * the size of the buffer it starts with and wherever in it a value falls.
 */
import { describe, expect, it } from 'vitest';
import {
  ProtoWriter,
  WIRE_FIXED32,
  WIRE_LEN,
  WIRE_VARINT,
} from '../../src/tracing/otlp/proto-writer.js';

/** The protobuf varint of an unsigned 64-bit integer, from the wire format's definition. */
function varintOf(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  while (v >= 0x80n) {
    out.push(Number(v % 0x80n) + 0x80);
    v /= 0x80n;
  }
  out.push(Number(v));
  return out;
}

/** The eight little-endian bytes of an unsigned 64-bit integer. */
function fixed64Of(value: bigint): number[] {
  const v = BigInt.asUintN(64, value);
  return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
}

/** What `write` puts in a fresh writer. */
function bytes(write: (w: ProtoWriter) => void, size = 4096): number[] {
  const w = new ProtoWriter(size);
  write(w);
  return [...w.take()];
}

/** `n` bytes that are neither 0 nor a valid first byte of a short length. */
const filler = (n: number): Buffer => Buffer.alloc(n, 0xa5);

describe('ProtoWriter: integers', () => {
  it('writes varints in as few bytes as the wire format allows, up to 2^64', () => {
    const cases: [number, number[]][] = [
      [0, [0x00]],
      [1, [0x01]],
      [127, [0x7f]],
      [128, [0x80, 0x01]],
      [300, [0xac, 0x02]],
      [16_383, [0xff, 0x7f]],
      [16_384, [0x80, 0x80, 0x01]],
      [2 ** 31, [0x80, 0x80, 0x80, 0x80, 0x08]],
      [2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
      [2 ** 32, [0x80, 0x80, 0x80, 0x80, 0x10]],
      [2 ** 32 + 1, [0x81, 0x80, 0x80, 0x80, 0x10]],
      [2 ** 35 + 127, [0xff, 0x80, 0x80, 0x80, 0x80, 0x01]],
      [2 ** 53, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]],
      [2 ** 53 - 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
      [2 ** 63, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
      [2 ** 64 - 2 ** 11, [0x80, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ];
    for (const [value, expected] of cases) {
      expect([value, bytes((w) => w.varint(value))]).toEqual([value, expected]);
      expect([value, expected]).toEqual([value, varintOf(BigInt(value))]);
    }
    // Every power of two and its neighbours, against the definition.
    for (let e = 0; e < 64; e++) {
      for (const value of [2 ** e - 1, 2 ** e, 2 ** e + 1]) {
        if (!Number.isSafeInteger(value) && value % 2 !== 0) continue;
        expect([value, bytes((w) => w.varint(value))]).toEqual([value, varintOf(BigInt(value))]);
      }
    }
  });

  it('writes int64 as a varint when non-negative and as ten bytes of two’s complement when negative', () => {
    const cases: [number, number[]][] = [
      [0, [0x00]],
      [5, [0x05]],
      [2 ** 53 - 1, varintOf(2n ** 53n - 1n)],
      [2 ** 63 - 1024, varintOf(2n ** 63n - 1024n)],
      [-1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      [-2, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      [-128, [0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
      [-(2 ** 32), [0x80, 0x80, 0x80, 0x80, 0xf0, 0xff, 0xff, 0xff, 0xff, 0x01]],
      [-(2 ** 53), varintOf(-(2n ** 53n))],
      [-(2 ** 63), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]],
    ];
    for (const [value, expected] of cases) {
      expect([value, bytes((w) => w.int64(value))]).toEqual([value, expected]);
      expect([value, expected]).toEqual([value, varintOf(BigInt(value))]);
    }
  });

  it('writes field tags in one byte for fields 1–15 and as a varint from field 16', () => {
    expect(bytes((w) => w.tag(1, WIRE_LEN))).toEqual([0x0a]);
    expect(bytes((w) => w.tag(2, WIRE_VARINT))).toEqual([0x10]);
    expect(bytes((w) => w.tag(15, WIRE_FIXED32))).toEqual([0x7d]);
    expect(bytes((w) => w.tag(16, WIRE_VARINT))).toEqual([0x80, 0x01]);
    expect(bytes((w) => w.tag(16, WIRE_FIXED32))).toEqual([0x85, 0x01]);
    expect(bytes((w) => w.tag(2047, WIRE_LEN))).toEqual([0xfa, 0x7f]);
    expect(bytes((w) => w.tag(2048, WIRE_LEN))).toEqual([0x82, 0x80, 0x01]);
  });

  it('writes fixed32 and doubles little-endian', () => {
    expect(bytes((w) => w.fixed32(0x01020304))).toEqual([0x04, 0x03, 0x02, 0x01]);
    expect(bytes((w) => w.fixed32(0x301))).toEqual([0x01, 0x03, 0x00, 0x00]);
    expect(bytes((w) => w.fixed32(0xffffffff))).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(bytes((w) => w.double(0.125))).toEqual([0, 0, 0, 0, 0, 0, 0xc0, 0x3f]);
    expect(bytes((w) => w.double(-2.5))).toEqual([0, 0, 0, 0, 0, 0, 0x04, 0xc0]);
    expect(bytes((w) => w.double(Number.NaN))).toEqual([0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
    expect(bytes((w) => w.double(-Infinity))).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0xff]);
  });
});

describe('ProtoWriter: HrTime as fixed64 nanoseconds', () => {
  /** What OpenTelemetry's serializer writes: both parts truncated, then seconds × 1e9 + nanos. */
  const otel = (t: [number, number]): number[] =>
    fixed64Of(BigInt(Math.trunc(t[0])) * 1_000_000_000n + BigInt(Math.trunc(t[1])));

  /** `t` written as OpenTelemetry writes it, fresh and with the second's split kept from an earlier time. */
  function expectHrTime(w: ProtoWriter, t: [number, number]): void {
    expect([t, bytes((x) => x.hrTime(t))]).toEqual([t, otel(t)]);
    w.reset();
    w.hrTime([t[0], 0]);
    w.reset();
    w.hrTime(t);
    expect([t, [...w.take()]]).toEqual([t, otel(t)]);
  }

  it('writes exactly seconds × 1e9 + nanoseconds, also where the low 32 bits carry', () => {
    // Seconds whose nanoseconds end just under a multiple of 2^32: a time a
    // few nanoseconds later carries into the high word.
    const near: number[] = [];
    for (let s = 1_765_000_000; near.length < 20; s++) {
      const low = Number((BigInt(s) * 1_000_000_000n) % 2n ** 32n);
      if (low > 2 ** 32 - 1e9) near.push(s);
    }
    const w = new ProtoWriter(8);
    for (const s of near) {
      const toCarry = 2 ** 32 - Number((BigInt(s) * 1_000_000_000n) % 2n ** 32n);
      // Twice each: the first time computes the second's split, the second reuses it.
      for (const t of [
        [s, toCarry - 1],
        [s, toCarry],
        [s, toCarry + 1],
        [s, 0],
        [s, 999_999_999],
        [s, toCarry],
      ] as [number, number][]) {
        w.reset();
        w.hrTime(t);
        expect([t, [...w.take()]]).toEqual([t, otel(t)]);
        expect([t, bytes((x) => x.hrTime(t))]).toEqual([t, otel(t)]);
      }
    }
  });

  it('writes times from the epoch to past 2^64 ns with every nanosecond', () => {
    for (const t of [
      [0, 0],
      [0, 1],
      [1, 0],
      [2 ** 16, 5],
      [2 ** 16 - 1, 999_999_999],
      [2 ** 32 + 5, 7],
      [2 ** 34 - 1, 999_999_999],
      [2 ** 34, 3],
      [2 ** 34 + 1, 999_999_999],
      [18_446_744_073, 709_551_615], // 2^64 - 1 ns
    ] as [number, number][]) {
      expect([t, bytes((w) => w.hrTime(t))]).toEqual([t, otel(t)]);
    }
  });

  it('truncates a fractional nanosecond part as OpenTelemetry does, never rounding it up', () => {
    const w = new ProtoWriter(8);
    for (const t of [
      [5, 1.9999999],
      [5, 1.5],
      [1_765_000_000, 123.9999999],
      [1_765_000_000, 999_999_999.99999],
      [1_765_012_345, 500.999999],
      [1_765_012_345, 0.9999999],
      [2 ** 34 + 7, 41.9999999],
    ] as [number, number][]) {
      expectHrTime(w, t);
    }
  });

  it('writes nanosecond parts outside [0, 1e9) as their sum with the seconds, as OpenTelemetry does', () => {
    const w = new ProtoWriter(8);
    for (const t of [
      [5, -1],
      [0, -1],
      [1, -1_000_000_001],
      [5, 1_000_000_000],
      [5, 10_000_000_000],
      [1_765_000_000, 5_000_000_000],
    ] as [number, number][]) {
      expectHrTime(w, t);
    }
  });
});

describe('ProtoWriter: strings and bytes', () => {
  it('writes strings as their UTF-8 bytes after their byte length', () => {
    const cases: [string, number[]][] = [
      ['', [0x00]],
      ['a', [0x01, 0x61]],
      ['\x7f', [0x01, 0x7f]],
      ['ß', [0x02, 0xc3, 0x9f]], // 2 bytes
      ['€', [0x03, 0xe2, 0x82, 0xac]], // 3 bytes
      ['𝄞', [0x04, 0xf0, 0x9d, 0x84, 0x9e]], // 4 bytes (a surrogate pair)
      ['a€b', [0x05, 0x61, 0xe2, 0x82, 0xac, 0x62]],
      ['\u0080', [0x02, 0xc2, 0x80]],
      ['\u07ff\u0800', [0x05, 0xdf, 0xbf, 0xe0, 0xa0, 0x80]],
      // Lone surrogates become U+FFFD, as in every UTF-8 encoder of Node.
      ['\ud800', [0x03, 0xef, 0xbf, 0xbd]],
      ['x\udc00', [0x04, 0x78, 0xef, 0xbf, 0xbd]],
    ];
    for (const [value, expected] of cases) {
      expect([value, bytes((w) => w.string(value))]).toEqual([value, expected]);
    }
  });

  it('gives a string of 128 bytes or more a length of two bytes or more', () => {
    for (const [value, prefix] of [
      ['a'.repeat(127), [0x7f]],
      ['a'.repeat(128), [0x80, 0x01]],
      ['a'.repeat(129), [0x81, 0x01]],
      ['é'.repeat(64), [0x80, 0x01]], // 64 characters, 128 bytes
      ['é'.repeat(63), [0x7e]],
      ['€'.repeat(43), [0x81, 0x01]],
      ['𝄞'.repeat(32), [0x80, 0x01]],
      ['a'.repeat(16_383), [0xff, 0x7f]],
      ['a'.repeat(16_384), [0x80, 0x80, 0x01]],
      ['€'.repeat(6000), [0xd0, 0x8c, 0x01]], // 18 000 bytes
      ['a'.repeat(2 ** 21), [0x80, 0x80, 0x80, 0x01]],
    ] as [string, number[]][]) {
      const w = new ProtoWriter(16);
      w.string(value);
      const out = w.take();
      const utf8 = Buffer.from(value, 'utf8');
      expect([value.length, [...out.subarray(0, prefix.length)]]).toEqual([value.length, prefix]);
      expect(out.subarray(prefix.length).equals(utf8)).toBe(true);
    }
  });

  it('writes bytes after their length, and raw bytes and ranges as they are', () => {
    expect(bytes((w) => w.bytes(new Uint8Array([])))).toEqual([0x00]);
    expect(bytes((w) => w.bytes(new Uint8Array([0, 1, 0xff])))).toEqual([0x03, 0, 1, 0xff]);
    const long = new Uint8Array(300).map((_, i) => i & 0xff);
    expect(bytes((w) => w.bytes(long))).toEqual([0xac, 0x02, ...long]);
    expect(bytes((w) => w.raw(new Uint8Array([7, 8, 9])))).toEqual([7, 8, 9]);
    const source = Buffer.from([1, 2, 3, 4, 5, 6]);
    expect(bytes((w) => w.rawRange(source, 2, 5))).toEqual([3, 4, 5]);
    expect(bytes((w) => w.rawRange(source, 3, 3))).toEqual([]);
  });
});

describe('ProtoWriter: nested messages', () => {
  /** A message of `len` payload bytes under field 1, written with begin/end or beginWide/endWide. */
  function nested(len: number, wide: boolean, size = 16): Buffer {
    const w = new ProtoWriter(size);
    w.tag(1, WIRE_LEN);
    const start = wide ? w.beginWide() : w.begin();
    w.raw(filler(len));
    if (wide) w.endWide(start);
    else w.end(start);
    return w.take();
  }

  it('writes the payload length in front, in as many bytes as it needs', () => {
    for (const len of [
      0,
      1,
      127,
      128,
      129,
      300,
      16_255,
      16_256,
      16_383,
      16_384,
      2 ** 21 - 1,
      2 ** 21,
    ]) {
      const expected = Buffer.concat([Buffer.from([0x0a, ...varintOf(BigInt(len))]), filler(len)]);
      for (const wide of [false, true]) {
        const out = nested(len, wide);
        expect([len, wide, out.length]).toEqual([len, wide, expected.length]);
        expect([len, wide, out.equals(expected)]).toEqual([len, wide, true]);
      }
    }
  });

  it('back-patches lengths of messages nested in messages', () => {
    // ScopeSpans-like: a message holding a 200-byte message and a short one,
    // inside a message whose length then takes two bytes.
    for (const wide of [false, true]) {
      const w = new ProtoWriter(8);
      w.tag(1, WIRE_LEN);
      const outer = wide ? w.beginWide() : w.begin();
      w.tag(2, WIRE_LEN);
      const big = w.begin();
      w.raw(filler(200));
      w.end(big);
      w.tag(3, WIRE_LEN);
      const small = w.begin();
      w.string('ok');
      w.end(small);
      w.tag(4, WIRE_LEN);
      const empty = w.begin();
      w.end(empty);
      if (wide) w.endWide(outer);
      else w.end(outer);
      expect([...w.take()]).toEqual([
        0x0a,
        ...varintOf(3n + 200n + 2n + 3n + 2n),
        0x12,
        0xc8,
        0x01,
        ...filler(200),
        0x1a,
        0x03,
        0x02,
        0x6f,
        0x6b,
        0x22,
        0x00,
      ]);
    }
  });
});

describe('ProtoWriter: buffer growth', () => {
  /** Each operation, with the bytes it writes. */
  const ops: [string, (w: ProtoWriter) => void, number[]][] = [
    ['tag', (w) => w.tag(3, WIRE_LEN), [0x1a]],
    ['tag 16', (w) => w.tag(16, WIRE_FIXED32), [0x85, 0x01]],
    ['varint', (w) => w.varint(2 ** 53), varintOf(2n ** 53n)],
    ['int64', (w) => w.int64(-3), varintOf(-3n)],
    ['fixed32', (w) => w.fixed32(0x0a0b0c0d), [0x0d, 0x0c, 0x0b, 0x0a]],
    ['double', (w) => w.double(0.125), [0, 0, 0, 0, 0, 0, 0xc0, 0x3f]],
    ['hrTime', (w) => w.hrTime([1_765_000_000, 42]), fixed64Of(1_765_000_000_000_000_042n)],
    ['hrTime (slow)', (w) => w.hrTime([2 ** 35, 42]), fixed64Of(2n ** 35n * 1_000_000_000n + 42n)],
    ['string', (w) => w.string('GET /users'), [10, ...Buffer.from('GET /users')]],
    ['string 64', (w) => w.string('s'.repeat(64)), [64, ...Buffer.from('s'.repeat(64))]],
    ['string utf-8', (w) => w.string('ünï€'), [8, ...Buffer.from('ünï€')]],
    ['string 200', (w) => w.string('é'.repeat(100)), [0xc8, 0x01, ...Buffer.from('é'.repeat(100))]],
    ['bytes', (w) => w.bytes(new Uint8Array([9, 8, 7])), [3, 9, 8, 7]],
    [
      'hexId',
      (w) => w.hexId('00f067aa0ba902b7', 8),
      [8, ...Buffer.from('00f067aa0ba902b7', 'hex')],
    ],
    ['bad hexId', (w) => w.hexId('00f067aa0ba902bz', 8), [8, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['raw', (w) => w.raw(filler(70)), [...filler(70)]],
    ['rawRange', (w) => w.rawRange(filler(90), 10, 80), [...filler(70)]],
    [
      'nested',
      (w) => {
        const s = w.begin();
        w.raw(filler(3));
        w.end(s);
      },
      [3, ...filler(3)],
    ],
    ['nested empty', (w) => w.end(w.begin()), [0]],
    [
      'nested 130',
      (w) => {
        const s = w.begin();
        w.raw(filler(130));
        w.end(s);
      },
      [0x82, 0x01, ...filler(130)],
    ],
    ['wide empty', (w) => w.endWide(w.beginWide()), [0]],
    [
      'wide 130',
      (w) => {
        const s = w.beginWide();
        w.raw(filler(130));
        w.endWide(s);
      },
      [0x82, 0x01, ...filler(130)],
    ],
  ];

  it('writes the same bytes whatever the initial size and wherever the value falls in it', () => {
    // Initial sizes around the first growth (to at least 64 bytes) and the
    // next ones, with the value written 0 to 12 bytes before the end.
    for (const size of [
      0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 60, 63, 64, 65, 70, 127, 128, 129, 140,
    ]) {
      for (let room = 0; room <= 12; room++) {
        const before = Math.max(0, size - room);
        for (const [name, write, expected] of ops) {
          const w = new ProtoWriter(size);
          w.raw(filler(before));
          write(w);
          w.raw(new Uint8Array([0x5a]));
          const out = [...w.take()];
          expect([name, size, before, out]).toEqual([
            name,
            size,
            before,
            [...filler(before), ...expected, 0x5a],
          ]);
        }
      }
    }
  });

  it('writes the same bytes again after a reset, past its initial size', () => {
    const w = new ProtoWriter(2);
    const once = (): number[] => {
      w.reset();
      for (const [, write] of ops) write(w);
      return [...w.take()];
    };
    const expected = ops.flatMap(([, , b]) => b);
    expect(once()).toEqual(expected);
    expect(once()).toEqual(expected);
  });
});

describe('ProtoWriter: its buffer', () => {
  // The span encoder writes each span straight into a shared buffer and
  // tells from `buf` whether the writer had to move (the span did not fit):
  // the writer keeps its buffer while the bytes fit and at least doubles it
  // when they do not.
  it('keeps its buffer while the bytes fit, to the last byte', () => {
    const w = new ProtoWriter(100);
    const first = w.buf;
    w.raw(filler(99));
    w.raw(filler(1));
    expect(w.buf).toBe(first);
    // end() of a payload whose length takes two bytes needs one byte more.
    const n = new ProtoWriter(132);
    const own = n.buf;
    n.tag(1, WIRE_LEN);
    const s = n.begin();
    n.raw(filler(129));
    n.end(s);
    expect([n.buf, n.pos]).toEqual([own, 132]);
    const r = new ProtoWriter(10);
    const mine = r.buf;
    r.rawRange(filler(100), 90, 100);
    expect([r.buf, [...r.take()]]).toEqual([mine, [...filler(10)]]);
  });

  it('at least doubles its buffer when the bytes do not fit, to 64 bytes at least', () => {
    const sizes = (initial: number, write: number): number => {
      const w = new ProtoWriter(initial);
      const before = w.buf;
      w.raw(filler(write));
      expect(w.buf).not.toBe(before);
      return w.buf.length;
    };
    expect(sizes(100, 101)).toBe(200);
    expect(sizes(100, 200)).toBe(200);
    expect(sizes(100, 201)).toBe(400);
    expect(sizes(0, 1)).toBe(64);
    expect(sizes(10, 11)).toBe(64);
    expect(sizes(10, 65)).toBe(128);
  });
});

describe('ProtoWriter: ids', () => {
  it('takes no character next to the hex digits in ASCII for one', () => {
    // '/' ':' before and after the digits, '@' 'G' around 'A'–'F', '`' 'g' around 'a'–'f'.
    for (const c of ['/', ':', '@', 'G', '`', 'g']) {
      const hex = `0123456789abcde${c}`;
      const w = new ProtoWriter(16);
      w.hexId(hex, 8);
      expect([hex, [...w.take()]]).toEqual([hex, [8, 0, 0, 0, 0, 0, 0, 0, 0]]);
    }
    expect(bytes((w) => w.hexId('09afAF0000000000', 8))).toEqual([
      8, 0x09, 0xaf, 0xaf, 0, 0, 0, 0, 0,
    ]);
  });
});
