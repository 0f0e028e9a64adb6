import type { WebSocket } from 'ws';

/**
 * `socket.send` as a promise that resolves once the frame is written and
 * rejects with `ws`'s error (a socket that closed meanwhile).
 *
 * Hand this to `delivery.deliver(envelope, () => sendFrame(...))`: the
 * delivery lag is taken when the promise resolves, and a failed send is an
 * error on the `WS send` span instead of a lag sample. A bare
 * `socket.send(data)` returns at once, and on a closed socket does nothing
 * at all — the lag of an event nobody received would still be recorded.
 */
export function sendFrame(socket: WebSocket, data: string): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    socket.send(data, (error) => (error ? reject(error) : resolve())),
  );
}
