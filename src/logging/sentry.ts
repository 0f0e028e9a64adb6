import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { context, trace, INVALID_SPANID, INVALID_TRACEID } from '@opentelemetry/api';
import type * as SentryNode from '@sentry/node';
import { getContext } from '../context.js';
import type { Redactor } from './redact.js';
import { redactBreadcrumb, redactSentryEvent } from './sentry-redact.js';

type Sentry = typeof SentryNode;
type SentryEvent = SentryNode.Event;
type EventHint = SentryNode.EventHint;

/** The package stacklight reports errors through (an optional peer dependency). */
export const SENTRY_PACKAGE = '@sentry/node';

/** Options of `initSentry`. */
export interface SentrySetup {
  /**
   * Sentry DSN, e.g. `https://key@o0.ingest.sentry.io/1`. Without one,
   * stacklight only joins a Sentry client the service created itself.
   */
  dsn: string | undefined;
  /** `service` tag of every event. */
  service: string;
  /** `env` tag and (unless `options.environment`) Sentry `environment`. */
  env: string;
  /** Sentry `release` (unless `options.release`). */
  release?: string;
  /** Share of error events sent, in [0, 1] (Sentry's `sampleRate`). */
  sampleRate?: number;
  /** Sentry's own `init()` options, passed through (see {@link initSentry}). */
  options?: Readonly<Record<string, unknown>>;
  /** The logger's redactor: events get the same redaction as log lines. */
  redactor: Redactor;
  /**
   * stacklight's crash handler ends the process on a fatal error: a joined
   * client's fatal-error callback (which prints the raw, unscrubbed error
   * and exits) is then left to it, unless the service set its own.
   */
  handlesCrashes?: boolean;
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
  /** Sentry `level` of the event (`fatal` for crashes). @default 'error' */
  level?: 'fatal' | 'error' | 'warning';
}

/** How stacklight reports to Sentry, once `initSentry` has settled. */
export type SentryMode = 'off' | 'starting' | 'own' | 'joined';

/** Captures queued while Sentry is starting; beyond this they are dropped and counted. */
export const MAX_QUEUED_EVENTS = 100;

interface Queued {
  err: unknown;
  eventId: string;
  tags: Record<string, string>;
  traceId: string | undefined;
  parentSpanId: string | undefined;
  ctx: CaptureContext | undefined;
}

let sentry: Sentry | undefined;
let mode: SentryMode = 'off';
let queue: Queued[] = [];
let onQueueDrop: ((count: number) => void) | undefined;

/** The current Sentry mode: `joined` when reporting through the service's own client. */
export function sentryMode(): SentryMode {
  return mode;
}

/**
 * Whether `@sentry/node` can be loaded from stacklight's place in
 * node_modules (an optional peer dependency: installed by the service).
 */
export function sentryInstalled(
  resolve: (id: string) => string = createRequire(import.meta.url).resolve,
): boolean {
  try {
    resolve(SENTRY_PACKAGE);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a Sentry SDK is already loaded in this process (its global carrier
 * exists): the service set Sentry up itself, and stacklight joins it.
 */
export function sentryLoaded(): boolean {
  const carrier = (globalThis as { __SENTRY__?: unknown }).__SENTRY__;
  return typeof carrier === 'object' && carrier !== null;
}

/**
 * Marks Sentry as starting: from now until `initSentry` settles, captures are
 * queued (up to {@link MAX_QUEUED_EVENTS}) instead of being dropped.
 * `dropped` counts captures that could not be queued or sent.
 */
export function beginSentry(dropped: (count: number) => void): void {
  mode = 'starting';
  queue = [];
  onQueueDrop = dropped;
}

/** Options stacklight always sets when it creates the client (coexistence, privacy). */
function ownOptions(S: Sentry): Record<string, unknown> {
  return {
    // stacklight owns the OpenTelemetry provider, propagator and context
    // manager: Sentry registers none of them (one provider, no duplicate
    // spans), and nothing patches http, fetch, console or module loading.
    enableOpenTelemetrySetup: false,
    enableRuntimeChannelInjection: false,
    defaultIntegrations: false,
    sendClientReports: false,
    // v11 replaced `sendDefaultPii`: no user info, cookies, bodies, query
    // params or local variables are collected.
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
    integrations: [
      S.eventFiltersIntegration(),
      S.linkedErrorsIntegration(),
      S.dedupeIntegration(),
      S.nodeContextIntegration(),
    ],
  };
}

type BeforeSend = (event: SentryEvent, hint: EventHint) => unknown;

/**
 * Starts Sentry error reporting next to stacklight's own tracing. Never
 * throws: a failure resolves to `false` and costs error reporting only.
 *
 * - **A client already exists** (the service called `Sentry.init` itself):
 *   stacklight uses it. It adds its scrubbing as an event processor of that
 *   client (so the client's own `beforeSend` sees scrubbed events) and the
 *   `service`/`env` tags; it does not call `Sentry.init` again.
 * - **Otherwise, with a DSN**: `@sentry/node` is imported (only now) and
 *   initialised with `options` passed through (`environment`, `release`,
 *   `ignoreErrors`, `beforeSend`, `integrations`, …), `sampleRate` applied.
 *   The user's `beforeSend` and `beforeBreadcrumb` run after stacklight's
 *   scrubbing. stacklight keeps Sentry away from the OpenTelemetry globals
 *   (`enableOpenTelemetrySetup: false`, no default integrations) and keeps
 *   data collection off; those keys cannot be overridden.
 *
 * Captures made while this runs (see {@link beginSentry}) are sent once it
 * settles.
 */
export async function initSentry(setup: SentrySetup): Promise<boolean> {
  let ok = false;
  try {
    const S: Sentry = await import(SENTRY_PACKAGE);
    const r = setup.redactor;
    const existing = S.getClient();
    if (existing !== undefined) {
      existing.addEventProcessor(
        Object.assign((event: SentryEvent) => redactSentryEvent(event, r), {
          id: 'stacklight-scrub',
        }),
      );
      if (setup.handlesCrashes === true) {
        // `onFatalError` is read from the client's options when Sentry's
        // uncaught-exception integration fires; Sentry still captures the
        // error, and stacklight's handler writes the scrubbed fatal line,
        // flushes and exits.
        const clientOptions = existing.getOptions() as { onFatalError?: unknown };
        clientOptions.onFatalError ??= function stacklightHandlesFatalErrors(): void {};
      }
      S.getGlobalScope().setTags({ service: setup.service, env: setup.env });
      sentry = S;
      mode = 'joined';
      ok = true;
    } else if (setup.dsn !== undefined) {
      const user = { ...(setup.options ?? {}) };
      const userBeforeSend = user.beforeSend as BeforeSend | undefined;
      const userBreadcrumb = user.beforeBreadcrumb as
        ((b: SentryNode.Breadcrumb, h?: unknown) => SentryNode.Breadcrumb | null) | undefined;
      const own = ownOptions(S);
      const userIntegrations = Array.isArray(user.integrations) ? user.integrations : [];
      const client = S.init({
        ...user,
        ...own,
        integrations: [...(own.integrations as unknown[]), ...userIntegrations],
        dsn: setup.dsn,
        environment: (user.environment as string | undefined) ?? setup.env,
        ...(user.release === undefined && setup.release !== undefined
          ? { release: setup.release }
          : {}),
        ...(setup.sampleRate === undefined ? {} : { sampleRate: setup.sampleRate }),
        beforeSend: (event: SentryEvent, hint: EventHint) => {
          const scrubbed = redactSentryEvent(event, r);
          return userBeforeSend === undefined ? scrubbed : userBeforeSend(scrubbed, hint);
        },
        // Sentry 11 streams spans and ignores `beforeSendTransaction`; no
        // spans are expected (no tracing integrations), but any that appear
        // get their name and attributes scrubbed all the same.
        beforeSendSpan: <T extends { name: string; attributes?: unknown }>(span: T): T => ({
          ...span,
          name: r.redactString(span.name),
          attributes: r.redactValue(span.attributes),
        }),
        beforeBreadcrumb: (breadcrumb: SentryNode.Breadcrumb, hint?: unknown) => {
          const scrubbed = redactBreadcrumb(breadcrumb, r);
          return userBreadcrumb === undefined ? scrubbed : userBreadcrumb(scrubbed, hint);
        },
      } as unknown as Parameters<Sentry['init']>[0]);
      if (client !== undefined) {
        S.getGlobalScope().setTags({ service: setup.service, env: setup.env });
        sentry = S;
        mode = 'own';
        ok = true;
      }
    }
  } catch {
    ok = false;
  }
  if (!ok) mode = 'off';
  drainQueue();
  return ok;
}

function drainQueue(): void {
  const pending = queue;
  queue = [];
  if (pending.length === 0) return;
  if (sentry === undefined) {
    onQueueDrop?.(pending.length);
    return;
  }
  for (const q of pending) send(sentry, q);
}

function newEventId(): string {
  return randomBytes(16).toString('hex');
}

/** The request/job context and active trace, read now (at capture time). */
function snapshot(err: unknown, ctx: CaptureContext | undefined, eventId: string): Queued {
  const tags: Record<string, string> = {};
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
      if (value !== undefined) tags[key] = String(value);
    }
  }
  const sc = trace.getSpan(context.active())?.spanContext();
  const valid = sc !== undefined && sc.traceId !== INVALID_TRACEID && sc.spanId !== INVALID_SPANID;
  return {
    err,
    eventId,
    tags,
    traceId: valid ? sc.traceId : undefined,
    parentSpanId: valid ? sc.spanId : undefined,
    ctx,
  };
}

function send(S: Sentry, q: Queued): void {
  try {
    S.withScope((scope) => {
      scope.setTags(q.tags);
      if (q.traceId !== undefined && q.parentSpanId !== undefined) {
        scope.setTag('trace_id', q.traceId);
        scope.setPropagationContext({
          traceId: q.traceId,
          parentSpanId: q.parentSpanId,
          sampleRand: Math.random(),
        });
      }
      const ctx = q.ctx;
      if (ctx?.tags !== undefined) scope.setTags(ctx.tags);
      if (ctx?.extra !== undefined) scope.setExtras(ctx.extra);
      if (ctx?.user?.id !== undefined) scope.setUser({ id: ctx.user.id });
      if (ctx?.level !== undefined) scope.setLevel(ctx.level);
      const request = ctx?.request;
      if (request !== undefined)
        scope.addEventProcessor((event) => ({ ...event, request: { ...request } }));
      S.captureException(q.err, { event_id: q.eventId });
    });
  } catch {
    // Telemetry never throws into the caller.
  }
}

/**
 * Sends `err` to Sentry, tagged with the request/job context read now
 * (`requestId`, `route`, `jobId`, …) and linked to the active OpenTelemetry
 * trace (`trace_id` tag and the event's trace context). While Sentry is
 * starting the event is queued and sent once it is ready. Returns the event
 * id, or `undefined` when Sentry is off. Never throws.
 */
export function captureException(err: unknown, ctx?: CaptureContext): string | undefined {
  if (mode === 'off') return undefined;
  try {
    const q = snapshot(err, ctx, newEventId());
    const S = sentry;
    if (S !== undefined) send(S, q);
    else if (queue.length < MAX_QUEUED_EVENTS) queue.push(q);
    else onQueueDrop?.(1);
    return q.eventId;
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

/**
 * Flushes and lets go of Sentry (process shutdown, tests). A client stacklight
 * created is closed; a client the service created is only flushed (it is the
 * service's to close).
 */
export async function closeSentry(timeoutMs = 2000): Promise<void> {
  const S = sentry;
  const joined = mode === 'joined';
  sentry = undefined;
  mode = 'off';
  drainQueue();
  try {
    if (joined) await S?.flush(timeoutMs);
    else await S?.close(timeoutMs);
  } catch {
    // Shutdown must go on.
  }
}
