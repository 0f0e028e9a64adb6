/**
 * Internal barrel of the outbound-client room. `src/index.ts` picks what
 * becomes public from here; everything is listed by name.
 */
export { createServiceClient } from './service-client.js';
export type { ServiceClient, ServiceClientOptions } from './service-client.js';

export { createVendorClient, vendorCodeLabel } from './vendor-client.js';
export type { VendorClient, VendorClientOptions } from './vendor-client.js';

export {
  AI_COACH_ENDPOINTS,
  AI_OTHER_ENDPOINT,
  aiErrorReason,
  createAiCoachClient,
} from './ai-coach-client.js';
export type {
  AiCoachClient,
  AiCoachClientOptions,
  AiCoachEndpoint,
  AiErrorReason,
  AiRequestInit,
} from './ai-coach-client.js';

export type {
  BaseClientOptions,
  ClientHeadersInit,
  ClientRequestInit,
  ClientTelemetry,
  ExchangeOutcome,
  FailureKind,
  FetchLike,
  InstrumentedFetch,
} from './types.js';
