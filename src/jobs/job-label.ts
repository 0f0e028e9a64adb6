import { ConfigError } from '../errors.js';
import type { JobLabel } from './types.js';

/**
 * An example mapping for `jobLabel`: the `job` label values the
 * observability spec's PromQL and SLIs use (`job_duration_ms_bucket{job="import"}`,
 * `job_duration_ms{job=import|score|sim|digest}`), keyed by that product's
 * job names. Pass it (or your own) as `jobLabel`; the default labels every
 * job with its own name.
 */
export const SPEC_JOB_LABELS: Readonly<Record<string, string>> = Object.freeze({
  'import.trades': 'import',
  'score.bias': 'score',
  'simulate.simple': 'sim',
  'digest.weekly': 'digest',
});

/** A function giving the `job` label of a job name, never throwing. */
export type JobLabelFn = (jobName: string, queue: string) => string;

/**
 * Validates a `jobLabel` option and turns it into a function. A function
 * given by the caller is guarded: a throw or a non-string result falls back
 * to the job name (reported through `onError`). Results are memoised per
 * (queue, name), bounded, since they are computed on every run.
 */
export function jobLabelResolver(
  option: JobLabel | undefined,
  onError: (err: unknown) => void,
): JobLabelFn {
  const given = option ?? {};
  if (typeof given === 'function') {
    const cache = new Map<string, string>();
    return (name, queue) => {
      const key = queue + '\u0001' + name;
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      let value = name;
      try {
        const v = given(name, queue);
        if (typeof v === 'string' && v !== '') value = v;
        else
          onError(
            new TypeError(
              `jobLabel returned ${typeof v === 'string' ? 'an empty string' : typeof v}`,
            ),
          );
      } catch (err) {
        onError(err);
      }
      if (cache.size >= 1000) cache.clear();
      cache.set(key, value);
      return value;
    };
  }
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw new ConfigError(
      'instrumentProcessor.jobLabel',
      given,
      'an object mapping job names to label values, or a function',
    );
  }
  for (const [name, value] of Object.entries(given)) {
    if (typeof value !== 'string' || value === '') {
      throw new ConfigError(`instrumentProcessor.jobLabel["${name}"]`, value, 'a non-empty string');
    }
  }
  const map = new Map(Object.entries(given));
  return (name) => map.get(name) ?? name;
}
