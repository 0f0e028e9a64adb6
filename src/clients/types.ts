import type { Telemetry } from '../types.js';

/**
 * The part of the `Telemetry` handle the outbound clients use. A structural
 * subset so that tests (and services with their own wiring) can pass
 * anything that has these members; `init()`'s handle always fits.
 */
export type ClientTelemetry = Pick<Telemetry, 'metrics' | 'tracer'> &
  Partial<Pick<Telemetry, 'selfMetrics'>>;

/** What `new Headers()` accepts (the DOM `HeadersInit`, which @types/node does not declare globally). */
export type ClientHeadersInit = ConstructorParameters<typeof Headers>[0];

/** The `fetch` signature the clients call (the global `fetch`, undici, or a test double). */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** What one request may add to `RequestInit`. */
export interface ClientRequestInit extends RequestInit {
  /**
   * Timeout of this request in ms, replacing the client's `timeoutMs`; `0`
   * turns the timeout off. Covers the whole exchange: connecting, the
   * response headers and reading the body.
   */
  timeoutMs?: number;
  /**
   * The URL template of the request (`/api/v3/klines`, `/users/:id`): names
   * the client span (`GET /users/:id`) and fills `url.template`. Never put a
   * raw path with ids here.
   */
  urlTemplate?: string;
}

/**
 * Why a request ended without a response:
 * - `timeout`: the client's `timeoutMs` elapsed, or the caller's signal
 *   aborted with a `TimeoutError` (`AbortSignal.timeout()`);
 * - `aborted`: the caller's signal aborted for any other reason;
 * - `network`: anything else `fetch` rejected with (refused, reset, DNS, TLS…).
 */
export type FailureKind = 'timeout' | 'aborted' | 'network';

/** The outcome of one exchange, handed to the client's metric recorder. */
export interface ExchangeOutcome {
  /** HTTP status when a response arrived. */
  readonly status: number | undefined;
  /** Set when no response arrived. */
  readonly failure: FailureKind | undefined;
  /** Request start → response headers (or failure), in ms. */
  readonly durationMs: number;
}

/** Options every client accepts. */
export interface BaseClientOptions {
  /**
   * Prefix of relative request paths (`https://api.binance.com`, or with a
   * path: `http://core:3000/internal`). Absolute URLs given to `fetch` are
   * used as they are.
   */
  baseUrl?: string | URL;
  /**
   * Timeout of each request in ms (connect, headers and body); `0` or
   * `undefined` means none. A request's own `timeoutMs` replaces it.
   * @default undefined (no timeout)
   */
  timeoutMs?: number;
  /** Headers sent with every request (API keys…); never recorded on spans. */
  headers?: ClientHeadersInit;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: FetchLike;
}

/** An instrumented `fetch`: same arguments and result as `fetch`, plus {@link ClientRequestInit}. */
export interface InstrumentedFetch {
  (input: string | URL, init?: ClientRequestInit): Promise<Response>;
}
