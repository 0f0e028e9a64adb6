import { context, trace, INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import type * as SentryNode from '@sentry/node';
import { getContext } from '../context.js';
import type { Redactor } from './redact.js';
import { redactBreadcrumb, redactSentryEvent } from './sentry-redact.js';

type Sentry = typeof SentryNode;

/** Options of `initSentry`. */
export interface SentrySetup {
  /** Sentry DSN, e.g. `https://key@o0.ingest.sentry.io/1`. */
  dsn: string;
  /** `service` tag of every event. */
  service: string;
  /** `env` tag and Sentry `environment` of every event. */
  env: string;
  /** Sentry `release`. */
  release?: string;
  /** The logger's redactor: events get the same redaction as log lines. */
  redactor: Redactor;
  /**
   * Sentry's own span sampling. stacklight traces through its own
   * OpenTelemetry provider, so this stays unset (no Sentry spans) unless the
   * lead decides otherwise.
   */
  tracesSampleRate?: number;
}

/** Extra data for one captured exception. */
export interface CaptureContext {
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
  /** Only `id` is ever sent. */
  user?: { id?: string };
  /** The failing request, redacted before sending (cookies dropped). */
  request?: {
    method?: string;
    url?: string;
    headers?: Record<string, string>;
    query_string?: string;
  };
}

let sentry: Sentry | undefined;

/**
 * Initialises Sentry error reporting next to stacklight's own tracing.
 * `@sentry/node` is imported lazily, so a service without a DSN never loads it.
 *
 * How it coexists with stacklight's OpenTelemetry tracer provider (Sentry 11):
 * - `enableOpenTelemetrySetup: false` (the v11 default, set explicitly): Sentry
 *   registers no tracer provider, propagator or context manager, so there is
 *   one provider and no duplicate spans. (`skipOpenTelemetrySetup` of Sentry
 *   ≤ 10 no longer exists in 11.)
 * - `defaultIntegrations: false` and `enableRuntimeChannelInjection: false`:
 *   nothing patches or hooks `http`, `fetch`, `console`, module loading or
 *   process handlers; only event-shaping integrations are added (event
 *   filters, linked errors / causes, dedupe, node context).
 * - `dataCollection` turned down (v11 replaced `sendDefaultPii`): no user
 *   info, cookies, bodies, query params or local variables are collected.
 * - `beforeSend`, `beforeSendSpan` (v11's replacement of
 *   `beforeSendTransaction`, which v11 ignores) and `beforeBreadcrumb` pass
 *   everything through the redaction engine (`redactSentryEvent`).
 *
 * Never throws: a failure to load or initialise Sentry resolves to `false`
 * and costs error reporting only.
 */
export async function initSentry(setup: SentrySetup): Promise<boolean> {
  try {
    const S: Sentry = await import('@sentry/node');
    const r = setup.redactor;
    const client = S.init({
      dsn: setup.dsn,
      environment: setup.env,
      ...(setup.release === undefined ? {} : { release: setup.release }),
      ...(setup.tracesSampleRate === undefined ? {} : { tracesSampleRate: setup.tracesSampleRate }),
      enableOpenTelemetrySetup: false,
      enableRuntimeChannelInjection: false,
      defaultIntegrations: false,
      integrations: [
        S.eventFiltersIntegration(),
        S.linkedErrorsIntegration(),
        S.dedupeIntegration(),
        S.nodeContextIntegration(),
      ],
      dataCollection: {
        userInfo: false,
        cookies: false,
        httpHeaders: { request: true, response: false },
        httpBodies: [],
        urlQueryParams: false,
        databaseQueryData: false,
        queues: false,
        stackFrameVariables: false,
        genAI: { inputs: false, outputs: false },
        mcp: { inputs: false, outputs: false },
      },
      sendClientReports: false,
      beforeSend: (event) => redactSentryEvent(event, r),
      // Sentry 11 streams spans (`traceLifecycle: 'stream'`) and ignores
      // `beforeSendTransaction`; its replacement is `beforeSendSpan`. No
      // spans are expected (no tracing integrations), but any that appear get
      // their name and attributes redacted all the same.
      beforeSendSpan: (span) => ({
        ...span,
        name: r.redactString(span.name),
        attributes: r.redactValue(span.attributes) as typeof span.attributes,
      }),
      beforeBreadcrumb: (breadcrumb) => redactBreadcrumb(breadcrumb, r),
    });
    if (client === undefined) return false;
    S.getGlobalScope().setTags({ service: setup.service, env: setup.env });
    sentry = S;
    return true;
  } catch {
    return false;
  }
}

/**
 * Sends `err` to Sentry, tagged at capture time with the request/job context
 * (`requestId`, `route`, `jobId`, …) and linked to the active OpenTelemetry
 * trace (`trace_id` tag and the event's trace context). Returns the event id,
 * or `undefined` when Sentry is not initialised. Never throws.
 */
export function captureException(err: unknown, ctx?: CaptureContext): string | undefined {
  const S = sentry;
  if (S === undefined) return undefined;
  try {
    return S.withScope((scope) => {
      const c = getContext();
      if (c !== undefined) {
        for (const key of [
          'requestId',
          'route',
          'method',
          'queue',
          'job',
          'jobId',
          'eventId',
        ] as const) {
          const value = c[key];
          if (value !== undefined) scope.setTag(key, value);
        }
      }
      const span = trace.getSpan(context.active());
      const sc = span?.spanContext();
      if (sc !== undefined && sc.traceId !== INVALID_TRACEID && sc.spanId !== INVALID_SPANID) {
        scope.setTag('trace_id', sc.traceId);
        scope.setPropagationContext({
          traceId: sc.traceId,
          parentSpanId: sc.spanId,
          sampleRand: Math.random(),
        });
      }
      if (ctx?.tags !== undefined) scope.setTags(ctx.tags);
      if (ctx?.extra !== undefined) scope.setExtras(ctx.extra);
      if (ctx?.user?.id !== undefined) scope.setUser({ id: ctx.user.id });
      const request = ctx?.request;
      if (request !== undefined)
        scope.addEventProcessor((event) => ({ ...event, request: { ...request } }));
      return S.captureException(err);
    });
  } catch {
    return undefined;
  }
}

/** Waits up to `timeoutMs` for queued events to be sent. Resolves `false` on timeout or when not initialised. */
export async function flushSentry(timeoutMs: number): Promise<boolean> {
  try {
    return sentry === undefined ? false : await sentry.flush(timeoutMs);
  } catch {
    return false;
  }
}

/** Flushes and shuts Sentry down (process shutdown, tests). */
export async function closeSentry(timeoutMs = 2000): Promise<void> {
  const S = sentry;
  sentry = undefined;
  try {
    await S?.close(timeoutMs);
  } catch {
    // Shutdown must go on.
  }
}
