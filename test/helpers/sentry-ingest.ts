import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { Event as SentryEvent } from '@sentry/node';

/** A fake Sentry ingest on 127.0.0.1:0. */
export interface SentryIngest {
  /** A DSN pointing at this ingest. */
  url: string;
  /** Every envelope body received, decompressed. */
  bodies: string[];
  close(): Promise<void>;
}

/** Starts a local HTTP server that accepts Sentry envelopes and keeps their bodies. */
export async function startSentryIngest(): Promise<SentryIngest> {
  const bodies: string[] = [];
  const server = http.createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      bodies.push(
        (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8'),
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://publicKey@127.0.0.1:${port}/1`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The `event` items of the envelopes received, parsed. */
export function sentryEvents(bodies: string[]): SentryEvent[] {
  const out: SentryEvent[] = [];
  for (const body of bodies) {
    const lines = body.split('\n').filter((l) => l !== '');
    for (let i = 1; i + 1 < lines.length; i += 2) {
      const header = JSON.parse(lines[i] as string) as { type?: string };
      if (header.type === 'event') out.push(JSON.parse(lines[i + 1] as string) as SentryEvent);
    }
  }
  return out;
}
