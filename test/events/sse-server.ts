import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One stored outbox row, as Core would serve it. */
export interface Row {
  id: number;
  body: string;
}

/**
 * A minimal Core `/internal/events/subscribe`: rows with increasing ids; a
 * connect replays the rows after `Last-Event-ID`, then streams new rows.
 * The test can end or cut the open streams and choose the next answers.
 */
export interface SseTestServer {
  url: string;
  /** Request headers of each connect, in order. */
  connects: IncomingHttpHeaders[];
  rows: Row[];
  /** Appends a row and sends it to every open stream. */
  push(body: unknown, raw?: boolean): number;
  /** Writes raw text to every open stream. */
  write(text: string): void;
  /** Ends every open stream cleanly. */
  endAll(): void;
  /** Destroys every open connection (network loss). */
  cutAll(): void;
  /** Answers the next connects with these statuses instead of a stream (`'silent'`: headers, then nothing). */
  nextAnswers: (number | 'silent' | 'html')[];
  open(): number;
  close(): Promise<void>;
}

export async function startSseServer(): Promise<SseTestServer> {
  const streams = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const connects: IncomingHttpHeaders[] = [];
  const rows: Row[] = [];
  const nextAnswers: SseTestServer['nextAnswers'] = [];
  const frame = (row: Row) => `id: ${row.id}\nevent: outbox\ndata: ${row.body}\n\n`;

  const server = createServer((req, res) => {
    connects.push(req.headers);
    const answer = nextAnswers.shift();
    if (typeof answer === 'number') {
      res.writeHead(answer).end();
      return;
    }
    if (answer === 'html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    if (answer === 'silent') return;
    const after = Number(req.headers['last-event-id'] ?? 0);
    const backlog = rows
      .filter((r) => r.id > after)
      .map(frame)
      .join('');
    if (backlog !== '') res.write(backlog);
    streams.add(res);
    res.on('close', () => streams.delete(res));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/internal/events/subscribe`,
    connects,
    rows,
    nextAnswers,
    push(body, raw = false) {
      const row = { id: rows.length + 1, body: raw ? String(body) : JSON.stringify(body) };
      rows.push(row);
      for (const s of streams) s.write(frame(row));
      return row.id;
    },
    write(text) {
      for (const s of streams) s.write(text);
    },
    endAll() {
      for (const s of streams) s.end();
      streams.clear();
    },
    cutAll() {
      for (const s of sockets) s.destroy();
    },
    open: () => streams.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls `condition` until it holds (or fails the test after `timeoutMs`). */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
