/**
 * Shared bench helpers: run pairs of tasks (a baseline and stacklight) in the
 * same process, interleaved, several rounds, and report the median ns per
 * operation and the ratio. Each task call does `batch` operations so that
 * the timer's own cost does not dominate sub-microsecond work.
 */
import { Bench } from 'tinybench';

export interface Pair {
  name: string;
  baseline: { label: string; fn: () => void };
  subject: { label: string; fn: () => void };
  /** Operations per call. */
  batch: number;
  /** Target ratio subject/baseline (for the report only). */
  target?: number;
}

export interface PairResult {
  name: string;
  baseline: string;
  subject: string;
  baselineNs: number;
  subjectNs: number;
  ratio: number;
  spread: number;
  target?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs every pair `rounds` times, alternating baseline and subject. */
export async function runPairs(pairs: Pair[], rounds = 5, timeMs = 300): Promise<PairResult[]> {
  const out: PairResult[] = [];
  for (const p of pairs) {
    const base: number[] = [];
    const subj: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ['b', 's'] : ['s', 'b'];
      for (const which of order) {
        const bench = new Bench({ time: timeMs, warmup: true });
        const task = which === 'b' ? p.baseline : p.subject;
        bench.add(task.label, task.fn);
        await bench.run();
        const res = bench.tasks[0]!.result as unknown as {
          period?: number;
          latency?: { mean: number };
        };
        const ms = res.period ?? res.latency?.mean ?? NaN;
        (which === 'b' ? base : subj).push((ms * 1e6) / p.batch);
      }
    }
    const ratios = base.map((b, i) => subj[i]! / b);
    out.push({
      name: p.name,
      baseline: p.baseline.label,
      subject: p.subject.label,
      baselineNs: median(base),
      subjectNs: median(subj),
      ratio: median(ratios),
      spread: Math.max(...ratios) - Math.min(...ratios),
      ...(p.target !== undefined ? { target: p.target } : {}),
    });
  }
  return out;
}

/** A markdown table of pair results. */
export function pairTable(results: PairResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.baseline}: ${r.baselineNs.toFixed(0)} ns | ${r.subject}: ${r.subjectNs.toFixed(0)} ns | ${r.ratio.toFixed(2)}× (±${(r.spread / 2).toFixed(2)}) | ${r.target !== undefined ? `≤ ${r.target}×` : '—'} |`,
  );
  return [
    '| benchmark | baseline | stacklight | ratio | target |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
