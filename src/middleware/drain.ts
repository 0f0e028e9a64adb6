import type { ResolvedHttpOptions } from './options.js';
import type { Readiness } from './readiness.js';
import type { RequestRecord } from './record.js';

/** Body of the 503 sent to new requests once draining refuses them. */
export const DRAINING_BODY = '{"error":"Service Unavailable","message":"shutting down"}';

/** What the drain reads and sets of an HTTP lifecycle. */
export interface Drainable {
  readonly readiness: Readiness;
  readonly options: ResolvedHttpOptions;
  /** Set once the grace is over: new requests get 503. */
  refusing: boolean;
  /** Requests started and not finished yet. */
  readonly inFlight: number;
  /** The newest request still in flight. */
  readonly newestInFlight: RequestRecord | undefined;
  /** Called by the lifecycle when its last in-flight request finishes (set while draining). */
  drained: (() => void) | undefined;
  /** Ends a request exactly once (see `HttpLifecycle.finish`). */
  finish(rec: RequestRecord, aborted: boolean): void;
}

/**
 * The shutdown `drain` step: readiness turns 503 at once; new requests are
 * still served for `drainGraceMs`, then refused with 503; in-flight requests
 * are awaited; whatever has not finished when the budget runs out is
 * recorded as aborted (499), so every request is counted exactly once
 * before the flush phase writes the last lines and spans.
 */
export async function drainRequests(lc: Drainable, deadline: number): Promise<void> {
  lc.readiness.draining = true;
  const now = Date.now();
  const budget = Math.max(0, deadline - now);
  // Keep a share of the shutdown budget for the flush phase.
  const reserve = Math.min(1000, Math.floor(budget / 4));
  const usable = Math.max(0, budget - reserve);
  const grace = Math.min(lc.options.drainGraceMs, usable);
  if (grace > 0) await sleep(grace);
  lc.refusing = true;
  const left = now + usable - Date.now();
  if (lc.inFlight > 0 && left > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, left);
      timer.unref();
      lc.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    lc.drained = undefined;
  }
  for (let rec = lc.newestInFlight; rec !== undefined; rec = lc.newestInFlight)
    lc.finish(rec, true);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
  });
}
