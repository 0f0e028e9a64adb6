/**
 * `metrics.token` guards both places the exposition is served: the
 * plugin/middleware endpoint of an HTTP service and the metrics-only port
 * of a worker. Only `Authorization: Bearer <the exact token>` is let in; a
 * guess of the right length, the token in another case, an empty or
 * missing token, or another scheme all get 401 and no metric.
 */
import { request as httpRequest } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { stacklightPlugin } from '../../src/fastify.js';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';

const TOKEN = 'Sc0pe-Metrics-7f3a9c';

/** Authorization headers that must be refused, with what each one is. */
const REFUSED: [string, Record<string, string>][] = [
  ['no authorization header', {}],
  ['a wrong token of the same length', { authorization: `Bearer ${'x'.repeat(TOKEN.length)}` }],
  ['the token with its last character changed', { authorization: `Bearer ${TOKEN.slice(0, -1)}d` }],
  ['the token in upper case', { authorization: `Bearer ${TOKEN.toUpperCase()}` }],
  ['the token in lower case', { authorization: `Bearer ${TOKEN.toLowerCase()}` }],
  ['an empty Bearer', { authorization: 'Bearer ' }],
  ['Bearer alone', { authorization: 'Bearer' }],
  ['the token without a scheme', { authorization: TOKEN }],
  ['the token as Basic', { authorization: `Basic ${TOKEN}` }],
  ['the token under another scheme as long as Bearer', { authorization: `Digest ${TOKEN}` }],
  ['a prefix of the token', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
  ['the token with a suffix', { authorization: `Bearer ${TOKEN}x` }],
];

let telemetry: Telemetry | undefined;
let app: FastifyInstance | undefined;

afterEach(async () => {
  await app?.close();
  app = undefined;
  await telemetry?.shutdown();
  telemetry = undefined;
});

function get(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; wwwAuthenticate: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/metrics', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          body,
          wwwAuthenticate: res.headers['www-authenticate'],
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics.token on the metrics-only port', () => {
  async function start(): Promise<number> {
    telemetry = init({
      service: 'worker',
      logging: { destination: createLogCapture().stream },
      tracing: { exporter: 'none' },
      metrics: { port: 0, host: '127.0.0.1', token: TOKEN, defaultMetrics: false },
    });
    await telemetry.ready();
    return telemetry.metricsAddress()!.port;
  }

  it.each(REFUSED)('answers 401 to %s, with no metric in the body', async (_what, headers) => {
    const port = await start();
    const res = await get(port, headers);
    expect(res.status).toBe(401);
    expect(res.wwwAuthenticate).toBe('Bearer');
    expect(res.body).not.toContain('stacklight_');
  });

  it('answers 200 with the exposition to the exact token', async () => {
    const port = await start();
    const res = await get(port, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.body).toContain('stacklight_build_info');
  });
});

describe('metrics.token on the plugin endpoint', () => {
  async function start(): Promise<FastifyInstance> {
    telemetry = init({
      service: 'edge',
      logging: { destination: createLogCapture().stream },
      tracing: { exporter: 'none' },
      metrics: { token: TOKEN, defaultMetrics: false },
    });
    app = Fastify();
    await app.register(stacklightPlugin, { telemetry, metricsEndpoint: true });
    await app.ready();
    return app;
  }

  it.each(REFUSED)('answers 401 to %s, with no metric in the body', async (_what, headers) => {
    const f = await start();
    const res = await f.inject({ url: '/metrics', headers });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).not.toContain('stacklight_');
  });

  it('answers 200 with the exposition to the exact token', async () => {
    const f = await start();
    const res = await f.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('stacklight_build_info');
  });
});
