/** One dispatched server-sent event. */
export interface SseMessage {
  /** The last event id in effect when the event was dispatched (`undefined` before any `id:`). */
  readonly id: string | undefined;
  /** The `event:` field, `message` when absent. */
  readonly event: string;
  /** The `data:` lines joined with `\n`. */
  readonly data: string;
}

/** What one {@link SseParser.push} produced. */
export interface SseParseResult {
  readonly messages: SseMessage[];
  /** Events thrown away because they were larger than the parser's limit. */
  readonly tooLarge: number;
}

/**
 * An incremental parser of the `text/event-stream` format, following the
 * WHATWG HTML "server-sent events" interpretation rules: lines end with CRLF,
 * LF or CR (also split across chunks), a leading BOM is skipped, `:` starts a
 * comment, one space after the colon is dropped, `id` containing NUL is
 * ignored, `retry` takes ASCII digits only, and an event without `data` is
 * not dispatched.
 *
 * Memory is bounded: a line or an event's data longer than `maxEventSize`
 * UTF-16 code units is not buffered; the event is dropped and counted in
 * `tooLarge` instead.
 */
export class SseParser {
  private partial = '';
  private discardingLine = false;
  private pendingCR = false;
  private started = false;
  private data: string[] = [];
  private dataSize = 0;
  private hasData = false;
  private eventType = '';
  private tooLargeEvent = false;
  /** The last event id buffer (persists across events, as the spec says). */
  lastEventId: string | undefined;
  /** The reconnection time the server asked for with `retry:`, in ms. */
  retryMs: number | undefined;

  constructor(private readonly maxEventSize: number) {}

  push(text: string): SseParseResult {
    const out: SseMessage[] = [];
    const counts = { tooLarge: 0 };
    let i = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    if (this.pendingCR && i < text.length) {
      if (text.charCodeAt(i) === 0x0a) i++;
      this.pendingCR = false;
    }
    const n = text.length;
    while (i < n) {
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === 0x0a || c === 0x0d) break;
        j++;
      }
      if (j === n) {
        this.keepPartial(text.slice(i));
        break;
      }
      if (this.discardingLine) {
        this.discardingLine = false;
        this.partial = '';
      } else {
        const line = this.partial.length > 0 ? this.partial + text.slice(i, j) : text.slice(i, j);
        this.partial = '';
        this.line(line, out, counts);
      }
      if (text.charCodeAt(j) === 0x0d) {
        if (j + 1 < n) {
          if (text.charCodeAt(j + 1) === 0x0a) j++;
        } else {
          this.pendingCR = true;
        }
      }
      i = j + 1;
    }
    return { messages: out, tooLarge: counts.tooLarge };
  }

  private keepPartial(rest: string): void {
    if (this.discardingLine) return;
    if (this.partial.length + rest.length > this.maxEventSize) {
      this.partial = '';
      this.discardingLine = true;
      this.tooLargeEvent = true;
      return;
    }
    this.partial += rest;
  }

  private line(line: string, out: SseMessage[], counts: { tooLarge: number }): void {
    if (line.length === 0) {
      this.dispatch(out, counts);
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // comment (heartbeats)
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.hasData = true;
        if (this.tooLargeEvent) break;
        this.dataSize += value.length + 1;
        if (this.dataSize > this.maxEventSize) {
          this.tooLargeEvent = true;
          this.data = [];
        } else {
          this.data.push(value);
        }
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored.
        break;
    }
  }

  private dispatch(out: SseMessage[], counts: { tooLarge: number }): void {
    const tooLarge = this.tooLargeEvent;
    const hasData = this.hasData;
    const data = this.data;
    const event = this.eventType;
    this.data = [];
    this.dataSize = 0;
    this.hasData = false;
    this.eventType = '';
    this.tooLargeEvent = false;
    if (tooLarge) {
      counts.tooLarge++;
      return;
    }
    if (!hasData) return;
    out.push({
      id: this.lastEventId,
      event: event === '' ? 'message' : event,
      data: data.join('\n'),
    });
  }
}
