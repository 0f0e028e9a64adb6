import type { ResolvedCheck } from './options.js';
import type { ReadinessBody, ReadinessCheckFn, ReadinessCheckResult } from './types.js';

type Outcome = { ok: true } | { ok: false; error: unknown };

const TIMEOUT = Symbol('timeout');

interface CheckState extends ResolvedCheck {
  /** The call still running, shared by every probe until it settles. */
  pending: Promise<Outcome> | undefined;
  /** Last reported status, to log transitions only (probes run every few seconds). */
  last: ReadinessCheckResult['status'] | undefined;
}

/** Where readiness reports check transitions. */
export interface ReadinessReporter {
  failed(name: string, status: 'fail' | 'timeout', error: unknown, timeoutMs: number): void;
  recovered(name: string): void;
}

/** A readiness answer: status code and JSON body. */
export interface ReadinessAnswer {
  statusCode: 200 | 503;
  body: ReadinessBody;
}

function invoke(check: ReadinessCheckFn): Promise<Outcome> {
  try {
    return Promise.resolve(check()).then(
      (value): Outcome =>
        value === false ? { ok: false, error: new Error('check returned false') } : { ok: true },
      (error: unknown): Outcome => ({ ok: false, error }),
    );
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
}

/**
 * The readiness state: user checks run in parallel, each bounded by its
 * timeout; `draining` (set by the shutdown drain) answers 503 without running
 * them. A check that hangs is not called again while its previous call is
 * pending, so a stuck dependency costs one pending promise, not one per probe.
 */
export class Readiness {
  draining = false;
  private readonly checks: CheckState[];
  private readonly reporter: ReadinessReporter;

  constructor(checks: readonly ResolvedCheck[], reporter: ReadinessReporter) {
    this.checks = checks.map((c) => ({ ...c, pending: undefined, last: undefined }));
    this.reporter = reporter;
  }

  /** Runs every check (bounded by its timeout) and builds the answer. Never rejects. */
  async run(): Promise<ReadinessAnswer> {
    if (this.draining) return { statusCode: 503, body: { status: 'draining', checks: {} } };
    const results = await Promise.all(this.checks.map((c) => this.runOne(c)));
    const checks: Record<string, ReadinessCheckResult> = {};
    let ok = true;
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      checks[this.checks[i]!.name] = r;
      if (r.status !== 'ok') ok = false;
    }
    // Shutdown may have started while the checks ran.
    if (this.draining) return { statusCode: 503, body: { status: 'draining', checks } };
    return { statusCode: ok ? 200 : 503, body: { status: ok ? 'ok' : 'fail', checks } };
  }

  private async runOne(c: CheckState): Promise<ReadinessCheckResult> {
    const started = performance.now();
    if (c.pending === undefined) {
      const p = invoke(c.check);
      c.pending = p;
      void p.then(() => {
        if (c.pending === p) c.pending = undefined;
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      c.pending,
      new Promise<typeof TIMEOUT>((resolve) => {
        timer = setTimeout(resolve, c.timeoutMs, TIMEOUT);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    const durationMs = Math.round(performance.now() - started);
    let result: ReadinessCheckResult;
    if (outcome === TIMEOUT) result = { status: 'timeout', durationMs };
    else result = { status: outcome.ok ? 'ok' : 'fail', durationMs };
    this.report(
      c,
      result.status,
      outcome === TIMEOUT ? undefined : outcome.ok ? undefined : outcome.error,
    );
    return result;
  }

  private report(c: CheckState, status: ReadinessCheckResult['status'], error: unknown): void {
    if (c.last === status) return;
    const previous = c.last;
    c.last = status;
    try {
      if (status === 'ok') {
        if (previous !== undefined) this.reporter.recovered(c.name);
      } else {
        this.reporter.failed(c.name, status, error, c.timeoutMs);
      }
    } catch {
      // Reporting must never cost the probe.
    }
  }
}
