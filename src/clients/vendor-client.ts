import { exchange, exchangeSetup, type ExchangePlan } from './exchange.js';
import { checkBaseOptions, checkLabelValue } from './options.js';
import { ATTR_PEER_SERVICE } from './url.js';
import type {
  BaseClientOptions,
  ClientTelemetry,
  ExchangeOutcome,
  InstrumentedFetch,
} from './types.js';
import { useMetricFamily } from '../metrics/registry.js';

/** Options of {@link createVendorClient}. */
export interface VendorClientOptions extends BaseClientOptions {
  /**
   * The vendor (`binance`, `bybit`): the `vendor` label of
   * `vendor_req_duration_ms` and `vendor_429_total`, and `peer.service` on
   * spans. Lowercase `[a-z0-9_.-]`, starting with a letter.
   */
  vendor: string;
}

/** An instrumented client for one external vendor API. */
export interface VendorClient {
  /** The vendor label, as given. */
  readonly vendor: string;
  /**
   * `fetch` with a CLIENT span, trace headers, the client's timeout, and the
   * vendor metrics. Resolves with the response whatever its status (like
   * `fetch`); rejects with `fetch`'s own error.
   */
  readonly fetch: InstrumentedFetch;
}

/**
 * The `code` label of `vendor_req_duration_ms`: the status code, or for a
 * request that got no response `timeout` / `network`. A request the caller
 * aborted is not observed (its duration says nothing about the vendor).
 */
export function vendorCodeLabel(outcome: ExchangeOutcome): string | undefined {
  if (outcome.status !== undefined) return String(outcome.status);
  return outcome.failure === 'aborted' ? undefined : outcome.failure;
}

/**
 * Creates a client for an external vendor API (brokers, market data).
 *
 * Records, per request:
 * - `vendor_req_duration_ms{vendor, code}`: request start → response
 *   headers, `code` the status (`200`, `429`, `503`) or `timeout` / `network`;
 * - `vendor_429_total{vendor}`: responses with status 429 (rate limited).
 *
 * Spans are CLIENT spans named `{method} {urlTemplate}` (or `{method}` when
 * the request gives no `urlTemplate`), with `url.full` stripped of query
 * string and credentials.
 *
 * @example
 * const binance = createVendorClient(telemetry, { vendor: 'binance', baseUrl: 'https://api.binance.com', timeoutMs: 5000 });
 * const res = await binance.fetch(`/api/v3/myTrades?symbol=${symbol}`, {
 *   headers: { 'X-MBX-APIKEY': key },
 *   urlTemplate: '/api/v3/myTrades',
 * });
 * if (res.status === 429) await backoff(res.headers.get('retry-after'));
 */
export function createVendorClient(
  telemetry: ClientTelemetry,
  options: VendorClientOptions,
): VendorClient {
  const vendor = checkLabelValue('vendorClient.vendor', options?.vendor);
  const setup = exchangeSetup(telemetry, {
    ...checkBaseOptions('vendorClient', options),
    attributes: { [ATTR_PEER_SERVICE]: vendor },
  });
  const { vendorReqDurationMs, vendor429Total } = telemetry.metrics;
  useMetricFamily(telemetry.metrics, 'vendor');
  const plan: ExchangePlan = {
    record(outcome) {
      const code = vendorCodeLabel(outcome);
      if (code !== undefined) vendorReqDurationMs.observe({ vendor, code }, outcome.durationMs);
      if (outcome.status === 429) vendor429Total.inc({ vendor });
    },
  };
  return {
    vendor,
    fetch: (input, init) => exchange(setup, input, init, plan),
  };
}
