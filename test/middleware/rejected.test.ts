import { connect } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { stacklightMiddleware } from '../../src/express.js';
import { stacklightPlugin } from '../../src/fastify.js';
import { portOf, setupTelemetry, type Harness } from './harness.js';

/** Sends raw bytes (what a client library would refuse to send); returns the status line. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    const t = setTimeout(() => s.destroy(), 5000); // bounds a hang only
    s.on('data', (c: Buffer) => (out += c.toString()));
    s.on('close', () => {
      clearTimeout(t);
      resolve(out.split('\r\n')[0] ?? '');
    });
    s.on('error', () => undefined);
  });
}

const BAD_ENCODING = 'GET /users/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
const HUGE_HEADERS = `GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`;
const BAD_HEADER = 'GET /users/1 HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n';
const OK = 'GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

let h: Harness | undefined;
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  await h?.telemetry.shutdown();
  h = close = undefined;
});

const rejectedLines = (harness: Harness) =>
  harness.logs
    .lines()
    .filter((l) => String(l.msg).startsWith('request rejected before routing'))
    .map((l) => ({ route: l.route, method: l.method, status: l.status }));

describe('requests rejected before routing', () => {
  it('Fastify: counts and logs a bad encoding, oversized headers and a malformed header as unmatched', async () => {
    h = setupTelemetry();
    const app = Fastify();
    await app.register(stacklightPlugin, { telemetry: h.telemetry });
    app.get('/users/:id', async () => 'ok');
    // Opted out and answered synchronously: neither counted nor taken for a rejection.
    app.get('/quiet', { config: { stacklight: false } }, (_req, reply) => void reply.send('q'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    close = () => app.close();
    const port = portOf(app.server);
    expect(await raw(port, BAD_ENCODING)).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw(port, HUGE_HEADERS)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(await raw(port, BAD_HEADER)).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw(port, OK)).toBe('HTTP/1.1 200 OK');
    expect(await raw(port, OK.replace('/users/1', '/quiet'))).toBe('HTTP/1.1 200 OK');
    expect(h.count('unmatched', 'GET', 400)).toBe(1);
    expect(h.count('unmatched', '_OTHER', 431)).toBe(1);
    expect(h.count('unmatched', '_OTHER', 400)).toBe(1);
    expect(h.count('/users/:id', 'GET', 200)).toBe(1);
    expect(h.count('unmatched', 'GET', 200)).toBe(0);
    expect(rejectedLines(h)).toEqual([
      { route: 'unmatched', method: 'GET', status: 400 },
      { route: 'unmatched', method: '_OTHER', status: 431 },
      { route: 'unmatched', method: '_OTHER', status: 400 },
    ]);
  });

  it('Express: counts its own 400 for a bad encoding and, once serving, what Node rejects', async () => {
    h = setupTelemetry();
    const app = express();
    app.use(stacklightMiddleware(h.telemetry));
    app.get('/users/:id', (_req, res) => void res.send('ok'));
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    close = () => new Promise((r) => server.close(() => r()));
    const port = portOf(server);
    expect(await raw(port, OK)).toBe('HTTP/1.1 200 OK'); // the middleware meets the server
    expect(await raw(port, BAD_ENCODING)).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw(port, HUGE_HEADERS)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(await raw(port, BAD_HEADER)).toBe('HTTP/1.1 400 Bad Request');
    expect(h.count('unmatched', 'GET', 400)).toBe(1);
    expect(h.count('unmatched', '_OTHER', 431)).toBe(1);
    expect(h.count('unmatched', '_OTHER', 400)).toBe(1);
    expect(rejectedLines(h)).toEqual([
      { route: 'unmatched', method: '_OTHER', status: 431 },
      { route: 'unmatched', method: '_OTHER', status: 400 },
    ]);
  });
});
