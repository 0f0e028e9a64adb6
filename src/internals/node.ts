/**
 * Node.js internals stacklight reads (not Node's documented API):
 *
 * - `socket._httpMessage` — the response in flight on a socket; when
 *   stacklight listens for an HTTP server's `clientError` (which turns
 *   Node's own answer off), it answers a request Node could not parse (431,
 *   400, 408, 413) as Node would, and Node answers only when no response is
 *   in flight (lib/_http_server.js) — middleware/rejected.ts.
 *
 * Public path (a Node.js major CI does not run): the socket is destroyed
 * without an answer when a request cannot be parsed; the rejection is
 * counted the same.
 */
import { decide, type Guard, type GuardSpec } from './guard.js';

/** The Node.js versions CI runs (`engines` is >=20.19). */
export const NODE: GuardSpec = {
  name: 'node',
  tested: [
    { from: '20.19.0', below: '21.0.0' },
    { from: '22.0.0', below: '23.0.0' },
    { from: '24.0.0', below: '25.0.0' },
  ],
  fastPath: "Node's own answer to a request it cannot parse (431, 400)",
  publicPath: 'closing the connection without an answer',
  consequence: 'a client sending headers too large gets a closed connection instead of a 431',
};

let guard: Guard | undefined;

/** The decision for the running Node.js (read once). */
export function nodeGuard(): Guard {
  return (guard ??= decide(NODE, process.versions.node));
}
