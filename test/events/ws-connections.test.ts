import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  instrumentWebSocketServer,
  trackWebSocket,
  wsDropReason,
  type WebSocketLike,
} from '../../src/events/index.js';
import type { Telemetry } from '../../src/index.js';
import { initForTest } from '../clients/fixtures.js';
import type { LogCapture } from '../helpers/log-capture.js';

let telemetry: Telemetry;
let logs: LogCapture;

beforeAll(() => {
  ({ telemetry, logs } = initForTest('edge'));
});
afterEach(() => {
  for (const m of Object.values(telemetry.metrics)) m.reset();
  logs.lines(); // every line so far validates against the log schema
});
afterAll(async () => {
  await telemetry.shutdown();
  logs.lines(); // including the lines written by shutdown()
});

/**
 * A socket that behaves like `ws`'s WebSocket for these purposes: an
 * EventEmitter with `readyState`, which throws on an unhandled `error`
 * (as EventEmitter does) and emits `close(code, reason: Buffer)`.
 */
class FakeSocket extends EventEmitter implements WebSocketLike {
  readyState = 1;
  close(code: number, reason = ''): void {
    this.readyState = 3;
    this.emit('close', code, Buffer.from(reason));
  }
}

class FakeServer extends EventEmitter {
  connect(): FakeSocket {
    const socket = new FakeSocket();
    this.emit('connection', socket, { url: '/ws' });
    return socket;
  }
}

const active = () => telemetry.metrics.wsActiveConnections.read();
const dropped = (reason: string) => telemetry.metrics.wsDroppedConnectionsTotal.read({ reason });

describe('WebSocket connection tracking', () => {
  it('keeps ws_active_connections exact across opens, closes and double closes', () => {
    const server = new FakeServer();
    instrumentWebSocketServer(telemetry, server);
    const sockets = [server.connect(), server.connect(), server.connect()];
    expect(active()).toBe(3);
    sockets[0]!.close(1000);
    sockets[0]!.close(1000); // a second close event changes nothing
    sockets[1]!.close(1006);
    expect(active()).toBe(1);
    sockets[2]!.close(1001);
    expect(active()).toBe(0);
    expect(dropped('abnormal')).toBe(1);
  });

  it('counts an error as the abnormal close that ws emits after it, without adding an error listener', () => {
    const socket = new FakeSocket();
    trackWebSocket(telemetry, socket);
    expect(socket.listenerCount('error')).toBe(0);
    socket.on('error', () => undefined); // the service's own handler
    socket.emit('error', new Error('read ECONNRESET'));
    socket.close(1006);
    expect(active()).toBe(0);
    expect(dropped('abnormal')).toBe(1);
  });

  it('counts a socket once when it is tracked twice (server and route)', () => {
    const server = new FakeServer();
    instrumentWebSocketServer(telemetry, server);
    server.on('connection', (socket: FakeSocket) => trackWebSocket(telemetry, socket));
    const socket = server.connect();
    expect(active()).toBe(1);
    socket.close(1011);
    expect(active()).toBe(0);
    expect(dropped('server')).toBe(1);
  });

  it('does not count a socket that is already closed', () => {
    const socket = new FakeSocket();
    socket.readyState = 3;
    trackWebSocket(telemetry, socket);
    expect(active()).toBe(0);
  });

  it('release() decrements once; a later close still counts the drop but not again the gauge', () => {
    const socket = new FakeSocket();
    const tracked = trackWebSocket(telemetry, socket);
    trackWebSocket(telemetry, new FakeSocket());
    tracked.release();
    tracked.release();
    expect(active()).toBe(1);
    socket.close(1008);
    expect(active()).toBe(1);
    expect(dropped('policy')).toBe(1);
  });

  it('lets the service classify its own close codes, falling back to the classes', () => {
    const server = new FakeServer();
    instrumentWebSocketServer(telemetry, server, {
      classifyClose: (code, reason) => {
        if (code === 4001) return undefined; // session expired: normal for this app
        if (reason === 'boom') throw new Error('classifier bug');
        return code === 4002 ? 'heartbeat' : wsDropReason(code);
      },
    });
    server.connect().close(4001);
    server.connect().close(4002);
    server.connect().close(4003, 'boom');
    expect(dropped('heartbeat')).toBe(1);
    expect(dropped('app')).toBe(1);
    expect(active()).toBe(0);
  });

  it('stops tracking new connections once detached; open ones stay counted until they close', () => {
    const server = new FakeServer();
    const detach = instrumentWebSocketServer(telemetry, server);
    const first = server.connect();
    detach();
    server.connect();
    expect(active()).toBe(1);
    expect(server.listenerCount('connection')).toBe(0);
    first.close(1000);
    expect(active()).toBe(0);
  });

  it('classifies close codes into a small fixed set of reasons', () => {
    const table: [unknown, string | undefined][] = [
      [1000, undefined],
      [1001, undefined],
      [1005, undefined],
      [1006, 'abnormal'],
      [1002, 'protocol'],
      [1003, 'protocol'],
      [1007, 'protocol'],
      [1009, 'protocol'],
      [1010, 'protocol'],
      [1008, 'policy'],
      [1011, 'server'],
      [1012, 'server'],
      [1013, 'server'],
      [1014, 'server'],
      [1015, 'tls'],
      [3000, 'app'],
      [4999, 'app'],
      [1004, 'other'],
      [2000, 'other'],
      [5000, 'other'],
      ['1006', 'other'],
      [undefined, 'other'],
    ];
    for (const [code, reason] of table) expect(wsDropReason(code), String(code)).toBe(reason);
  });

  it('fails fast when given something that is not a ws server', () => {
    expect(() => instrumentWebSocketServer(telemetry, {} as unknown as FakeServer)).toThrow(
      'stacklight: webSocketServer must be a ws WebSocketServer (an object with on("connection", …)), got {}',
    );
  });
});
