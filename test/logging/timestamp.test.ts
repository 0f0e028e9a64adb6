import { describe, expect, it } from 'vitest';
import { isoTimestamp, timestampAt } from '../../src/logging/timestamp.js';

const expected = (ms: number): string => `,"ts":"${new Date(ms).toISOString()}"`;

describe('the ts fragment of a log line', () => {
  it('is toISOString for every millisecond around minute, hour, day and year boundaries', () => {
    const edges = [
      Date.UTC(2026, 10, 30, 23, 59, 59, 990),
      Date.UTC(2026, 11, 31, 23, 58, 59, 995),
      Date.UTC(2028, 1, 28, 23, 59, 58, 0), // into a leap day
      Date.UTC(1970, 0, 1, 0, 0, 0, 0) - 1500, // before the epoch
      Date.UTC(9999, 11, 31, 23, 59, 59, 0), // the last 4-digit year, then 6 digits
      Date.parse('0001-01-01T00:00:59.000Z'), // year 0001
    ];
    for (const edge of edges) {
      for (let ms = edge; ms < edge + 3000; ms++) expect(timestampAt(ms)).toBe(expected(ms));
    }
  });

  it('is toISOString for times in any order, not only increasing', () => {
    let seed = 11;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      // Jumps back and forth across minutes, and repeats of the same millisecond.
      const ms = Date.UTC(2026, 0, 1) + (seed % 600_000) * (i % 7 === 0 ? 0 : 1) + (i % 3);
      expect(timestampAt(ms)).toBe(expected(ms));
    }
  });

  it('is the current time', () => {
    const before = Date.now();
    const ts = Date.parse(isoTimestamp().slice(7, -1));
    expect(ts).toBeGreaterThanOrEqual(before);
    expect(ts).toBeLessThanOrEqual(Date.now());
  });
});
