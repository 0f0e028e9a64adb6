import { ConfigError } from '../errors.js';
import { SPAN_NAMES } from '../tracing/span-names.js';
import { exchange, exchangeSetup, type ExchangePlan } from './exchange.js';
import { checkBaseOptions, checkLabelValue } from './options.js';
import { ATTR_PEER_SERVICE, ATTR_URL_TEMPLATE } from './url.js';
import type {
  BaseClientOptions,
  ClientRequestInit,
  ClientTelemetry,
  ExchangeOutcome,
} from './types.js';
import { useMetricFamily } from '../metrics/registry.js';

/**
 * The AI Coach's endpoints (spec: S5) and the span name of each, from the
 * span-name catalog. The path is the `endpoint` label value.
 */
export const AI_COACH_ENDPOINTS = Object.freeze({
  '/v1/indicators': SPAN_NAMES.indicators.name,
  '/v1/bias/score': SPAN_NAMES.biasScore.name,
  '/v1/nlg/reflect': SPAN_NAMES.nlgReflect.name,
} as const);

/** A known AI Coach endpoint path. */
export type AiCoachEndpoint = keyof typeof AI_COACH_ENDPOINTS;

/** `endpoint` label value of requests to a path no endpoint table lists. */
export const AI_OTHER_ENDPOINT = 'other';

/** Values of the `reason` label of `ai_request_errors_total`. */
export type AiErrorReason = 'timeout' | 'network' | 'http_5xx' | 'http_4xx';

/** Options of {@link createAiCoachClient}. */
export interface AiCoachClientOptions extends BaseClientOptions {
  /**
   * More endpoints, path template → span name (`{ '/v1/sim/explain': 'sim.explain' }`),
   * added to {@link AI_COACH_ENDPOINTS}. Only listed templates become
   * `endpoint` label values; requests to other paths are labelled `other`.
   */
  endpoints?: Readonly<Record<string, string>>;
  /**
   * `peer.service` of the spans.
   * @default 'ai-coach'
   */
  service?: string;
}

/** What {@link AiCoachClient.fetch} accepts. */
export interface AiRequestInit extends ClientRequestInit {
  /**
   * The endpoint template, for a path with ids (`/v1/users/:id/digest` for
   * `/v1/users/42/digest`). When omitted, the request path (without query
   * string) is looked up in the endpoint table.
   */
  urlTemplate?: string;
}

/** An instrumented client for the AI Coach service. */
export interface AiCoachClient {
  /**
   * `fetch` with a CLIENT span named after the endpoint (`nlg.reflect`), trace
   * headers, the timeout and the AI metrics. Resolves with the response
   * whatever its status; rejects with `fetch`'s own error.
   */
  fetch(input: string | URL, init?: AiRequestInit): Promise<Response>;
  /** `POST` of a JSON body (`content-type: application/json`) through {@link AiCoachClient.fetch}. */
  postJson(
    endpoint: AiCoachEndpoint | (string & Record<never, never>),
    body: unknown,
    init?: AiRequestInit,
  ): Promise<Response>;
  /** The endpoint label and span name a request path gets. */
  endpointOf(
    path: string,
    urlTemplate?: string,
  ): { endpoint: string; spanName: string | undefined };
}

/**
 * The `reason` label of `ai_request_errors_total` for an outcome, or
 * `undefined` when it is not an error. A request the caller aborted is not an
 * AI error (nothing was wrong with the service); pass deadlines as
 * `timeoutMs` or `AbortSignal.timeout()` so that they count as `timeout`.
 */
export function aiErrorReason(outcome: ExchangeOutcome): AiErrorReason | undefined {
  if (outcome.status !== undefined) {
    if (outcome.status >= 500) return 'http_5xx';
    if (outcome.status >= 400) return 'http_4xx';
    return undefined;
  }
  if (outcome.failure === 'timeout') return 'timeout';
  if (outcome.failure === 'network') return 'network';
  return undefined;
}

/**
 * Creates the client for the AI Coach (S5).
 *
 * Records, per request, with `endpoint` the path template (`/v1/nlg/reflect`,
 * or `other`):
 * - `ai_request_total{endpoint}`: every request sent, whatever the outcome;
 * - `ai_request_duration_ms{endpoint}`: request start → response headers,
 *   for every outcome except a caller's abort;
 * - `ai_request_errors_total{endpoint, reason}`: `timeout`, `network`,
 *   `http_5xx`, and `http_4xx` (the AI Coach's 4xx are HMAC skew and rate
 *   limits, which runbook RB-04 tracks through this error rate).
 *
 * @example
 * const ai = createAiCoachClient(telemetry, { baseUrl: process.env.AI_COACH_URL, timeoutMs: 3000 });
 * const res = await ai.postJson('/v1/nlg/reflect', { tradeId, tags });
 * if (!res.ok) return heuristicsOnly(trade);
 * const reflection = await res.json();
 */
export function createAiCoachClient(
  telemetry: ClientTelemetry,
  options: AiCoachClientOptions = {},
): AiCoachClient {
  const service = checkLabelValue('aiCoachClient.service', options.service ?? 'ai-coach');
  const endpoints = endpointTable(options.endpoints);
  const setup = exchangeSetup(telemetry, {
    ...checkBaseOptions('aiCoachClient', options),
    attributes: { [ATTR_PEER_SERVICE]: service },
  });
  const { aiRequestTotal, aiRequestDurationMs, aiRequestErrorsTotal } = telemetry.metrics;
  useMetricFamily(telemetry.metrics, 'ai');

  const endpointOf = (path: string, urlTemplate?: string) => {
    const key = urlTemplate ?? stripQuery(path);
    const spanName = endpoints.get(key);
    return spanName === undefined
      ? { endpoint: AI_OTHER_ENDPOINT, spanName: undefined }
      : { endpoint: key, spanName };
  };

  const fetch = (input: string | URL, init?: AiRequestInit): Promise<Response> => {
    const path = input instanceof URL ? input.pathname : pathOf(input);
    const { endpoint, spanName } = endpointOf(path, init?.urlTemplate);
    const plan: ExchangePlan = {
      spanName,
      attributes: endpoint === AI_OTHER_ENDPOINT ? undefined : { [ATTR_URL_TEMPLATE]: endpoint },
      record(outcome) {
        aiRequestTotal.inc({ endpoint });
        if (outcome.failure !== 'aborted')
          aiRequestDurationMs.observe({ endpoint }, outcome.durationMs);
        const reason = aiErrorReason(outcome);
        if (reason !== undefined) aiRequestErrorsTotal.inc({ endpoint, reason });
      },
    };
    return exchange(setup, input, init, plan);
  };

  return {
    fetch,
    postJson(endpoint, body, init) {
      const headers = new Headers(init?.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return fetch(endpoint, { ...init, method: 'POST', headers, body: JSON.stringify(body) });
    },
    endpointOf,
  };
}

function endpointTable(
  extra: Readonly<Record<string, string>> | undefined,
): ReadonlyMap<string, string> {
  const table = new Map<string, string>(Object.entries(AI_COACH_ENDPOINTS));
  if (extra === undefined) return table;
  if (extra === null || typeof extra !== 'object') {
    throw new ConfigError(
      'aiCoachClient.endpoints',
      extra,
      'an object of path template → span name',
    );
  }
  for (const [path, name] of Object.entries(extra)) {
    if (!path.startsWith('/') || typeof name !== 'string' || name === '') {
      throw new ConfigError(
        `aiCoachClient.endpoints["${path}"]`,
        name,
        'a non-empty span name under a path template starting with "/"',
      );
    }
    table.set(path, name);
  }
  return table;
}

function stripQuery(path: string): string {
  const q = path.search(/[?#]/);
  return q === -1 ? path : path.slice(0, q);
}

/** The path of a request input: the pathname of an absolute URL, a relative path as given. */
function pathOf(input: string): string {
  if (/^[a-z][a-z\d+.-]*:/i.test(input)) {
    try {
      return new URL(input).pathname;
    } catch {
      return input;
    }
  }
  return input.startsWith('/') ? input : '/' + input;
}
