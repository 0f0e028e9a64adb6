import { describe, expect, it } from 'vitest';
import { SseParser, type SseMessage } from '../../src/events/index.js';

/** Feeds `chunks` one by one and returns every dispatched event. */
function parse(
  chunks: string[],
  max = 1024,
): { messages: SseMessage[]; tooLarge: number; parser: SseParser } {
  const parser = new SseParser(max);
  const messages: SseMessage[] = [];
  let tooLarge = 0;
  for (const c of chunks) {
    const r = parser.push(c);
    messages.push(...r.messages);
    tooLarge += r.tooLarge;
  }
  return { messages, tooLarge, parser };
}

describe('SseParser (WHATWG event-stream interpretation)', () => {
  const cases: [string, string[], Partial<SseMessage>[]][] = [
    ['a simple event', ['data: hello\n\n'], [{ id: undefined, event: 'message', data: 'hello' }]],
    ['several data lines joined with LF', ['data: a\ndata: b\n\n'], [{ data: 'a\nb' }]],
    ['only one leading space dropped', ['data:  two\n\n'], [{ data: ' two' }]],
    ['no space after the colon', ['data:x\n\n'], [{ data: 'x' }]],
    ['a field without colon is a field with empty value', ['data\n\n'], [{ data: '' }]],
    ['CRLF line endings', ['data: a\r\n\r\n'], [{ data: 'a' }]],
    ['CR line endings', ['data: a\r\r'], [{ data: 'a' }]],
    ['CRLF split across chunks', ['data: a\r', '\n\r', '\n'], [{ data: 'a' }]],
    ['a line split across chunks', ['da', 'ta: he', 'llo\n', '\n'], [{ data: 'hello' }]],
    ['a leading BOM skipped', ['\uFEFFdata: a\n\n'], [{ data: 'a' }]],
    ['comments ignored', [': heartbeat\n\n: x\ndata: a\n\n'], [{ data: 'a' }]],
    [
      'event type',
      ['event: coach.reflection\ndata: {}\n\n'],
      [{ event: 'coach.reflection', data: '{}' }],
    ],
    ['event without data not dispatched', ['event: ping\n\n'], []],
    [
      'event type reset between events',
      ['event: x\ndata: 1\n\ndata: 2\n\n'],
      [{ event: 'x' }, { event: 'message' }],
    ],
    ['id persists across events', ['id: 7\ndata: 1\n\ndata: 2\n\n'], [{ id: '7' }, { id: '7' }]],
    [
      'id with NUL ignored',
      ['id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n'],
      [{ id: '1' }, { id: '1' }],
    ],
    [
      'empty id resets the last event id',
      ['id: 1\ndata: a\n\nid\ndata: b\n\n'],
      [{ id: '1' }, { id: '' }],
    ],
    ['unknown fields ignored', ['foo: bar\ndata: a\n\n'], [{ data: 'a' }]],
    ['an incomplete event at the end is not dispatched', ['data: a\n'], []],
  ];
  for (const [name, chunks, expected] of cases) {
    it(name, () => {
      const { messages } = parse(chunks);
      expect(messages).toHaveLength(expected.length);
      expected.forEach((e, i) => expect(messages[i]).toMatchObject(e));
    });
  }

  it('takes retry with ASCII digits only', () => {
    expect(parse(['retry: 2500\n\n']).parser.retryMs).toBe(2500);
    expect(parse(['retry: 25x\n\n']).parser.retryMs).toBeUndefined();
    expect(parse(['retry: -1\n\n']).parser.retryMs).toBeUndefined();
  });

  it('drops an event whose data exceeds the limit, and keeps parsing after it', () => {
    const big = 'x'.repeat(600);
    const { messages, tooLarge } = parse([`data: ${big}\ndata: ${big}\n\ndata: ok\n\n`], 1000);
    expect(tooLarge).toBe(1);
    expect(messages.map((m) => m.data)).toEqual(['ok']);
  });

  it('does not buffer an endless line', () => {
    const parser = new SseParser(1000);
    let tooLarge = 0;
    parser.push('data: ');
    for (let i = 0; i < 100; i++) tooLarge += parser.push('y'.repeat(1000)).tooLarge;
    const end = parser.push('\n\ndata: next\n\n');
    expect(tooLarge + end.tooLarge).toBe(1);
    expect(end.messages.map((m) => m.data)).toEqual(['next']);
  });
});
