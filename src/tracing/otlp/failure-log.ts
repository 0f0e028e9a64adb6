/**
 * Export failures are counted (`stacklight_spans_dropped_total`) and also
 * said in words: the first failure is logged as a warning with its reason,
 * then at most one a minute, with how many failed since the last warning.
 * A dead collector therefore costs one log line a minute, not one a batch.
 */
export interface FailureReporter {
  (reason: string): void;
}

export function createFailureReporter(
  warn: (message: string) => void,
  intervalMs = 60_000,
  now: () => number = Date.now,
): FailureReporter {
  let last: number | undefined;
  let since = 0;
  return (reason) => {
    const t = now();
    if (last !== undefined && t - last < intervalMs) {
      since += 1;
      return;
    }
    const more =
      since > 0
        ? ` (${since} more export${since === 1 ? '' : 's'} failed since the last warning)`
        : '';
    since = 0;
    last = t;
    warn(`span export failed: ${reason}; the batch's spans are dropped and counted${more}`);
  };
}
