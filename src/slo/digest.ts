import { diag } from '@opentelemetry/api';
import type { Telemetry } from '../types.js';
import { checkOption, int } from '../config/kinds.js';
import { ConfigError } from '../errors.js';
import { useMetricFamily } from '../metrics/registry.js';

/** The `outcome` label of `digest_deliveries_total`. */
export type DigestOutcome = 'on_time' | 'late' | 'failed';

/** Options of {@link createDigestRecorder}. */
export interface DigestRecorderOptions {
  /**
   * Weekday of the deadline, 0 = Sunday … 6 = Saturday, in UTC.
   * @default 1 (Monday)
   */
  deadlineWeekday?: number;
  /**
   * Hour of the deadline on that weekday, in UTC (0–23).
   * @default 9
   */
  deadlineHourUtc?: number;
  /**
   * The clock, in ms since the epoch.
   * @default Date.now
   */
  now?: () => number;
}

/** Records the weekly digest SLI: recipients due, and each digest's outcome. */
export interface DigestRecorder {
  /** Counts `count` active users the digest of this week is due for (`digest_recipients_total`). */
  due(count?: number): void;
  /**
   * Counts one digest delivered now: `on_time` when now is not past the
   * deadline of the week `dueBy` belongs to, else `late`. `dueBy` is any
   * time in the digest's week (the week being summarised or the run's start);
   * by default the deadline is the next one after the recorder's clock at
   * the first `due()` call of the run. Returns the outcome.
   */
  delivered(dueBy?: Date | number): DigestOutcome;
  /** Counts one digest that could not be delivered (`failed`). */
  failed(): void;
  /** The deadline (ms since the epoch) that applies to a digest of the week of `at`. */
  deadlineFor(at: Date | number): number;
}

const DAY_MS = 86_400_000;

/**
 * The recorder of the weekly digest SLO ("delivered by Monday 09:00 UTC for
 * 99 % of active users"): `digest_recipients_total` counts the users a digest
 * was due for and `digest_deliveries_total{outcome}` what became of each.
 * The SLI is `on_time / recipients` over the week, so a user whose digest
 * was never attempted (a crashed run) counts against the objective too.
 *
 * @example
 * const digests = createDigestRecorder(telemetry);
 * digests.due(users.length);
 * for (const user of users) {
 *   try { await send(user); digests.delivered(); } catch { digests.failed(); }
 * }
 */
export function createDigestRecorder(
  telemetry: Pick<Telemetry, 'metrics'>,
  options: DigestRecorderOptions = {},
): DigestRecorder {
  const weekday = options.deadlineWeekday ?? 1;
  const hour = options.deadlineHourUtc ?? 9;
  checkOption('digest.deadlineWeekday', weekday, int(0, 6, '(0 = Sunday)'));
  checkOption('digest.deadlineHourUtc', hour, int(0, 23));
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new ConfigError('digest.now', options.now, 'a function returning ms since the epoch');
  const now = options.now ?? Date.now;
  const { digestRecipientsTotal, digestDeliveriesTotal } = telemetry.metrics;
  useMetricFamily(telemetry.metrics, 'digest');
  let runDeadline: number | undefined;
  // Every outcome exported from the start, at 0: a series that first appears
  // at 6 counts as no increase in rate()/increase(), so the first run after a
  // restart would read as all digests missed.
  for (const outcome of ['on_time', 'late', 'failed'] as const) {
    try {
      digestDeliveriesTotal.inc({ outcome }, 0);
    } catch (error) {
      diag.debug('stacklight: digest_deliveries_total update failed', error);
    }
  }

  const deadlineFor = (at: Date | number): number => {
    const t = typeof at === 'number' ? at : at.getTime();
    const d = new Date(t);
    const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    const ahead = (weekday - d.getUTCDay() + 7) % 7;
    let deadline = midnight + ahead * DAY_MS + hour * 3_600_000;
    if (deadline < t) deadline += 7 * DAY_MS;
    return deadline;
  };

  const count = (outcome: DigestOutcome): void => {
    try {
      digestDeliveriesTotal.inc({ outcome });
    } catch (error) {
      diag.debug('stacklight: digest_deliveries_total update failed', error);
    }
  };

  return {
    deadlineFor,
    due(n = 1) {
      runDeadline ??= deadlineFor(now());
      try {
        if (Number.isFinite(n) && n > 0) digestRecipientsTotal.inc(n);
      } catch (error) {
        diag.debug('stacklight: digest_recipients_total update failed', error);
      }
    },
    delivered(dueBy) {
      const at = now();
      const deadline = dueBy === undefined ? (runDeadline ?? deadlineFor(at)) : deadlineFor(dueBy);
      const outcome: DigestOutcome = at <= deadline ? 'on_time' : 'late';
      count(outcome);
      return outcome;
    },
    failed() {
      count('failed');
    },
  };
}
