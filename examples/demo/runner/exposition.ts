/**
 * Reading a Prometheus text exposition (a service's /metrics): samples,
 * histograms summed over the series that match, quantiles interpolated the
 * way PromQL's histogram_quantile does, and the share of observations at
 * or under an SLO threshold — exact, since the catalog's buckets contain
 * every threshold.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Histogram buckets (cumulative, `le` ascending), summed over series. */
export interface Histogram {
  buckets: [le: number, count: number][];
  count: number;
  sum: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (m[2] ?? '').matchAll(LABEL)) {
      labels[key!] = value!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

export type Filter = Record<string, string | RegExp>;

const matches = (labels: Record<string, string>, filter: Filter) =>
  Object.entries(filter).every(([k, v]) =>
    typeof v === 'string' ? labels[k] === v : v.test(labels[k] ?? ''),
  );

/** Sum of the samples named `name` that match `filter`. */
export function total(samples: readonly Sample[], name: string, filter: Filter = {}): number {
  let sum = 0;
  for (const s of samples) if (s.name === name && matches(s.labels, filter)) sum += s.value;
  return sum;
}

/** The histogram `base` summed over the series that match `filter` (PromQL `sum by (le)`). */
export function histogram(
  samples: readonly Sample[],
  base: string,
  filter: Filter = {},
): Histogram {
  const byLe = new Map<number, number>();
  let count = 0;
  let sum = 0;
  for (const s of samples) {
    if (!matches(s.labels, filter)) continue;
    if (s.name === `${base}_bucket`) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      byLe.set(le, (byLe.get(le) ?? 0) + s.value);
    } else if (s.name === `${base}_count`) count += s.value;
    else if (s.name === `${base}_sum`) sum += s.value;
  }
  return { buckets: [...byLe].sort((a, b) => a[0] - b[0]), count, sum };
}

/** `now − before`, bucket by bucket: the observations in between. */
export function since(now: Histogram, before: Histogram | undefined): Histogram {
  if (before === undefined) return now;
  const old = new Map(before.buckets);
  return {
    buckets: now.buckets.map(([le, c]) => [le, c - (old.get(le) ?? 0)]),
    count: now.count - before.count,
    sum: now.sum - before.sum,
  };
}

/** The q-quantile, linear within a bucket like histogram_quantile; undefined when empty. */
export function quantile(h: Histogram, q: number): number | undefined {
  if (h.count <= 0 || h.buckets.length === 0) return undefined;
  const rank = q * h.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, c] of h.buckets) {
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(c - prevCount, 1e-9);
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}

/** Share of observations ≤ `threshold` (a bucket bound), undefined when empty. */
export function shareAtMost(h: Histogram, threshold: number): number | undefined {
  if (h.count <= 0) return undefined;
  const bucket = h.buckets.find(([le]) => le >= threshold);
  if (bucket === undefined) return 1;
  return bucket[1] / h.count;
}
