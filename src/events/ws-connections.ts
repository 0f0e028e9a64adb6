import { errorMonitor } from 'node:events';
import { diag } from '@opentelemetry/api';
import { ConfigError } from '../errors.js';
import { internalError, type EventsTelemetry } from './envelope.js';
import { useMetricFamily } from '../metrics/registry.js';

/**
 * The part of a `ws` `WebSocket` used here (structural: `ws` 8, the socket
 * `@fastify/websocket` hands to routes, or any EventEmitter that emits
 * `close` with `(code, reason)`).
 */
export interface WebSocketLike {
  on(event: 'close', listener: (code: number, reason: unknown) => void): unknown;
  /** `ws` readyState: 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  readonly readyState?: number;
}

/** The part of a `ws` `WebSocketServer` used here (`fastify.websocketServer` is one). */
export interface WebSocketServerLike {
  on(event: 'connection', listener: (socket: WebSocketLike, ...rest: unknown[]) => void): unknown;
  off?(event: 'connection', listener: (socket: WebSocketLike, ...rest: unknown[]) => void): unknown;
  removeListener?(
    event: 'connection',
    listener: (socket: WebSocketLike, ...rest: unknown[]) => void,
  ): unknown;
}

/** Values of the `reason` label of `ws_dropped_connections_total`. */
export type WsDropReason = 'abnormal' | 'protocol' | 'policy' | 'server' | 'tls' | 'app' | 'other';

/**
 * The drop reason of a close code (RFC 6455 §7.4 and the IANA registry), or
 * `undefined` for a normal closure. Classes, not codes, so the label stays
 * small whatever a peer sends:
 *
 * | code | reason |
 * |---|---|
 * | 1000 normal, 1001 going away, 1005 no status (clean close frame) | not a drop |
 * | 1006 no close frame (network loss, `terminate()`, missed heartbeat) | `abnormal` |
 * | 1002, 1003, 1007, 1009, 1010 | `protocol` |
 * | 1008 policy violation (auth, rate limit) | `policy` |
 * | 1011 internal error, 1012 restart, 1013 try later, 1014 bad gateway | `server` |
 * | 1015 TLS handshake | `tls` |
 * | 3000–4999 (libraries and applications) | `app` |
 * | anything else | `other` |
 */
export function wsDropReason(code: unknown): WsDropReason | undefined {
  if (typeof code !== 'number' || !Number.isInteger(code)) return 'other';
  switch (code) {
    case 1000:
    case 1001:
    case 1005:
      return undefined;
    case 1006:
      return 'abnormal';
    case 1002:
    case 1003:
    case 1007:
    case 1009:
    case 1010:
      return 'protocol';
    case 1008:
      return 'policy';
    case 1011:
    case 1012:
    case 1013:
    case 1014:
      return 'server';
    case 1015:
      return 'tls';
    default:
      return code >= 3000 && code <= 4999 ? 'app' : 'other';
  }
}

/** Options of {@link trackWebSocket} and {@link instrumentWebSocketServer}. */
export interface WsTrackingOptions {
  /**
   * Classifies a close: a bounded reason to count as a drop, or `undefined`
   * for a normal close. Use it when the application's own codes (4000–4999)
   * mean a normal end (`4001 session expired`). A throwing or non-string
   * result falls back to {@link wsDropReason}.
   * @default wsDropReason
   */
  classifyClose?: (code: number, reason: string) => string | undefined;
}

/** Handle of one tracked socket. */
export interface TrackedWebSocket {
  /**
   * Stops counting the socket as active, as its close would. Idempotent;
   * for sockets whose `close` event may never come (a custom transport).
   * A later `close` still counts a drop, but does not decrement again.
   */
  release(): void;
}

const CLOSED = 3;

/** Sockets already tracked, so that tracking twice (server + route) counts once. */
const tracked = new WeakMap<object, TrackedWebSocket>();

/**
 * Counts one socket in `ws_connections_opened_total` and in
 * `ws_active_connections` until its first `close` event, and counts an
 * abnormal close in `ws_dropped_connections_total{reason}` (the drop rate is
 * dropped / opened).
 *
 * Exact by construction: the gauge goes up once per tracked socket and down
 * exactly once, on the first `close` (a second `close`, a `release()`, or
 * tracking the same socket twice change nothing). Errors need no listener:
 * `ws` always emits `close` after `error` (code 1006), and no `error`
 * listener is added, so the service's own error handling is unchanged.
 *
 * @example
 * wss.on('connection', (socket) => { trackWebSocket(telemetry, socket); ... });
 */
export function trackWebSocket(
  telemetry: EventsTelemetry,
  socket: WebSocketLike,
  options: WsTrackingOptions = {},
): TrackedWebSocket {
  const existing = tracked.get(socket as object);
  if (existing !== undefined) return existing;
  const active = telemetry.metrics.wsActiveConnections;
  const dropped = telemetry.metrics.wsDroppedConnectionsTotal;
  useMetricFamily(telemetry.metrics, 'ws');
  let open = false;
  let closeSeen = false;
  const release = (): void => {
    if (!open) return;
    open = false;
    try {
      active.dec();
    } catch (error) {
      internalError(telemetry);
      diag.debug('stacklight: ws_active_connections update failed', error);
    }
  };
  const handle: TrackedWebSocket = { release };
  // A socket already closed never emits `close` again: count nothing.
  if (socket.readyState === CLOSED) return handle;

  // `ws` reports 1006 on the server socket after it closed the connection
  // itself for a protocol error (it stops reading); the code it sent is on
  // the error. errorMonitor sees the error without counting as a handler.
  let sentCode: number | undefined;
  try {
    (socket as unknown as { on(event: symbol, listener: (error: unknown) => void): unknown }).on(
      errorMonitor,
      (error: unknown) => {
        sentCode ??= closeCodeOfError(error);
      },
    );
  } catch {
    // No error events to watch: protocol closes count as abnormal.
  }

  try {
    socket.on('close', (code: number, reason: unknown) => {
      if (closeSeen) return;
      closeSeen = true;
      release();
      const effective = code === 1006 && sentCode !== undefined ? sentCode : code;
      const why = classify(options.classifyClose, effective, reason);
      if (why === undefined) return;
      try {
        dropped.inc({ reason: why });
      } catch (error) {
        internalError(telemetry);
        diag.debug('stacklight: ws_dropped_connections_total update failed', error);
      }
    });
  } catch (error) {
    // Cannot observe the close: do not count the socket at all.
    internalError(telemetry);
    diag.debug('stacklight: listening for a WebSocket close failed', error);
    return handle;
  }
  open = true;
  try {
    telemetry.metrics.wsConnectionsOpenedTotal.inc();
    active.inc();
  } catch (error) {
    open = false;
    internalError(telemetry);
    diag.debug('stacklight: ws_active_connections update failed', error);
  }
  tracked.set(socket as object, handle);
  return handle;
}

/**
 * Tracks every connection of a `ws` server (or `fastify.websocketServer` with
 * `@fastify/websocket`) with {@link trackWebSocket}. Returns a function that
 * stops tracking new connections; sockets already tracked stay counted
 * until they close.
 *
 * @example
 * const wss = new WebSocketServer({ server });
 * instrumentWebSocketServer(telemetry, wss);
 * // @fastify/websocket, once the server is ready:
 * app.addHook('onReady', async () => { instrumentWebSocketServer(telemetry, app.websocketServer); });
 */
export function instrumentWebSocketServer(
  telemetry: EventsTelemetry,
  server: WebSocketServerLike,
  options: WsTrackingOptions = {},
): () => void {
  if (server === null || typeof server !== 'object' || typeof server.on !== 'function') {
    throw new ConfigError(
      'webSocketServer',
      server,
      'a ws WebSocketServer (an object with on("connection", …))',
    );
  }
  useMetricFamily(telemetry.metrics, 'ws');
  if (options.classifyClose !== undefined && typeof options.classifyClose !== 'function') {
    throw new ConfigError('webSocketServer.classifyClose', options.classifyClose, 'a function');
  }
  const onConnection = (socket: WebSocketLike): void => {
    try {
      trackWebSocket(telemetry, socket, options);
    } catch (error) {
      internalError(telemetry);
      diag.debug('stacklight: tracking a WebSocket failed', error);
    }
  };
  server.on('connection', onConnection);
  return () => {
    if (typeof server.off === 'function') server.off('connection', onConnection);
    else if (typeof server.removeListener === 'function')
      server.removeListener('connection', onConnection);
  };
}

function classify(
  custom: WsTrackingOptions['classifyClose'],
  code: number,
  reason: unknown,
): string | undefined {
  if (custom !== undefined) {
    try {
      const result = custom(code, reasonText(reason));
      if (result === undefined || (typeof result === 'string' && result !== '')) return result;
    } catch (error) {
      diag.debug('stacklight: classifyClose threw; using the default classes', error);
    }
  }
  return wsDropReason(code);
}

function reasonText(reason: unknown): string {
  if (typeof reason === 'string') return reason;
  if (reason instanceof Uint8Array) return Buffer.from(reason).toString('utf8');
  return '';
}

/**
 * The close code `ws` sent for a protocol error: its private status-code
 * symbol when present, else derived from the error code.
 */
function closeCodeOfError(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  try {
    for (const sym of Object.getOwnPropertySymbols(error)) {
      if (sym.description === 'status-code') {
        const v = (error as Record<symbol, unknown>)[sym];
        if (typeof v === 'number') return v;
      }
    }
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
    if (code === 'WS_ERR_INVALID_UTF8') return 1007;
    if (code.startsWith('WS_ERR_UNSUPPORTED_')) return 1009;
    return 1002;
  } catch {
    return undefined;
  }
}
