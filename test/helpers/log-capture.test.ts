import { describe, expect, it } from 'vitest';
import { createLogCapture, expectValidLogLine, logLineValidator } from './log-capture.js';

/**
 * The shared helper must fail on a line that breaks the schema; otherwise
 * every test that "validates" its lines through it would pass silently.
 */
const VALID = {
  level: 'info',
  ts: '2024-05-01T12:00:00.000Z',
  service: 'edge',
  env: 'test',
  region: 'eu-west-1',
  msg: 'ok',
};

describe('log-capture helper', () => {
  it('accepts a valid line', () => {
    expect(() => expectValidLogLine(VALID)).not.toThrow();
  });

  it.each([
    ['required fields missing', { level: 'info' }],
    ['status as a string', { ...VALID, status: '200' }],
    ['an unknown top-level field', { ...VALID, foo: 1 }],
    ['a malformed ts', { ...VALID, ts: 'yesterday' }],
    ['an unknown level', { ...VALID, level: 'verbose' }],
  ])('expectValidLogLine fails on %s', (_name, line) => {
    expect(logLineValidator()(line)).toBe(false);
    expect(() => expectValidLogLine(line)).toThrow(/log line does not match the schema/);
  });

  it('lines() fails when an invalid line was written to the capture', () => {
    const capture = createLogCapture();
    capture.stream.write(`${JSON.stringify(VALID)}\n`);
    expect(capture.lines()).toEqual([VALID]);
    capture.stream.write('{"level":"info"}\n');
    expect(() => capture.lines()).toThrow(/log line does not match the schema/);
    capture.clear();
    capture.stream.write(`${JSON.stringify({ ...VALID, status: 'ok' })}\n`);
    expect(() => capture.lines()).toThrow(/"\/status"/);
  });

  it('lines() fails on a line that is not JSON', () => {
    const capture = createLogCapture();
    capture.stream.write('not json\n');
    expect(() => capture.lines()).toThrow(SyntaxError);
  });
});
