import { exchange, exchangeSetup } from './exchange.js';
import { checkBaseOptions, checkLabelValue } from './options.js';
import { ATTR_PEER_SERVICE } from './url.js';
import type { BaseClientOptions, ClientTelemetry, InstrumentedFetch } from './types.js';

/** Options of {@link createServiceClient}. */
export interface ServiceClientOptions extends BaseClientOptions {
  /**
   * The service called (`core`, `ai-coach`): the `peer.service` attribute of
   * the client spans, which draws the edge in the service graph.
   */
  service: string;
}

/** A client for one of the product's own services (Edge → Core, Core → AI Coach…). */
export interface ServiceClient {
  /** The called service, as given. */
  readonly service: string;
  /**
   * `fetch` with a CLIENT span (`{method} {urlTemplate}`), W3C trace headers
   * from that span and the client's timeout. No metrics: internal calls are
   * measured on the server side (`http_request_duration_seconds`).
   */
  readonly fetch: InstrumentedFetch;
}

/**
 * Creates a traced `fetch` for calls between the product's services. The
 * called service's middleware continues the trace from the injected
 * `traceparent`.
 *
 * @example
 * const core = createServiceClient(telemetry, { service: 'core', baseUrl: process.env.CORE_URL, timeoutMs: 2000 });
 * const res = await core.fetch(`/internal/trades/${id}/score`, {
 *   method: 'POST',
 *   urlTemplate: '/internal/trades/:id/score',
 * });
 */
export function createServiceClient(
  telemetry: ClientTelemetry,
  options: ServiceClientOptions,
): ServiceClient {
  const service = checkLabelValue('serviceClient.service', options?.service);
  const setup = exchangeSetup(telemetry, {
    ...checkBaseOptions('serviceClient', options),
    attributes: { [ATTR_PEER_SERVICE]: service },
  });
  const plan = { record: () => undefined };
  return {
    service,
    fetch: (input, init) => exchange(setup, input, init, plan),
  };
}
