import { spawnSync } from 'node:child_process';

/** Result of `promtool check metrics` on an exposition. */
export interface PromtoolResult {
  status: number | null;
  /** Lint problems, one per line (`metric_name problem`). */
  problems: string[];
  stderr: string;
}

/**
 * Runs the real `promtool check metrics` (Debian's prometheus package) on an
 * exposition text. It parses the text and lints names; parse errors make
 * the status non-zero.
 */
export function promtoolCheckMetrics(text: string): PromtoolResult {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error)
    throw new Error(`promtool not runnable (apt-get install prometheus): ${r.error.message}`);
  const out = `${r.stdout}${r.stderr}`;
  const problems = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return { status: r.status, problems, stderr: r.stderr };
}
