import type { Breadcrumb, Event } from '@sentry/node';
import type { Redactor } from './redact.js';

type Frames = NonNullable<
  NonNullable<NonNullable<Event['exception']>['values']>[number]['stacktrace']
>;

/**
 * Passes a Sentry event through the redaction engine. Targeted rather than a
 * walk of the whole event: the parts that carry user data are redacted
 * (message, exception values, frame `vars`, request, extra, contexts, tags,
 * breadcrumbs, transaction name), while stack frames' file and function
 * names are left alone so that the redactor's node budget is spent on data
 * and a long stack is never cut.
 *
 * - `request.cookies` is removed; `request.headers` / `query_string` / `url` /
 *   `data` are redacted (secret keys, bearer tokens, e-mails, URL
 *   credentials);
 * - `user` keeps only `id` (spec 09: "no emails; only userId");
 * - exception `type`s (an error's `name`) and `value`s, and fingerprints,
 *   are scrubbed like any string;
 * - never mutates `event`; returns a new object.
 */
export function redactSentryEvent<E extends Event>(event: E, r: Redactor): E {
  const out: E = { ...event };
  if (typeof out.message === 'string') out.message = r.redactString(out.message);
  if (out.logentry !== undefined) out.logentry = r.redactValue(out.logentry) as E['logentry'];
  if (typeof out.transaction === 'string') out.transaction = r.redactString(out.transaction);
  if (out.exception?.values !== undefined) {
    out.exception = {
      ...out.exception,
      values: out.exception.values.map((v) => ({
        ...v,
        ...(typeof v.type === 'string' ? { type: r.redactString(v.type) } : {}),
        ...(typeof v.value === 'string' ? { value: r.redactString(v.value) } : {}),
        ...(v.stacktrace === undefined ? {} : { stacktrace: redactFrames(v.stacktrace, r) }),
      })),
    };
  }
  if (out.request !== undefined) {
    const { cookies: _dropped, ...request } = out.request;
    out.request = r.redactValue(request) as E['request'];
  }
  if (out.user !== undefined) {
    out.user = out.user.id === undefined ? {} : { id: r.redactString(String(out.user.id)) };
  }
  if (out.extra !== undefined) out.extra = r.redactValue(out.extra) as E['extra'];
  if (out.contexts !== undefined) out.contexts = r.redactValue(out.contexts) as E['contexts'];
  if (out.tags !== undefined) out.tags = r.redactValue(out.tags) as E['tags'];
  if (out.fingerprint !== undefined)
    out.fingerprint = out.fingerprint.map((f) => r.redactString(f));
  if (out.breadcrumbs !== undefined)
    out.breadcrumbs = out.breadcrumbs.map((b) => redactBreadcrumb(b, r));
  return out;
}

/** Redacts a breadcrumb's message and data. */
export function redactBreadcrumb(b: Breadcrumb, r: Redactor): Breadcrumb {
  const out: Breadcrumb = { ...b };
  if (typeof out.message === 'string') out.message = r.redactString(out.message);
  if (out.data !== undefined) out.data = r.redactValue(out.data) as Breadcrumb['data'];
  return out;
}

function redactFrames(stacktrace: Frames, r: Redactor): Frames {
  if (stacktrace.frames === undefined) return stacktrace;
  return {
    ...stacktrace,
    frames: stacktrace.frames.map((f) => ({
      ...f,
      ...(f.vars === undefined ? {} : { vars: r.redactValue(f.vars) as typeof f.vars }),
      ...(f.context_line === undefined ? {} : { context_line: r.redactString(f.context_line) }),
    })),
  };
}
