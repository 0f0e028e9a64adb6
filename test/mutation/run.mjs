// @ts-check
/**
 * `npm run test:mutation [-- stryker options]`: runs Stryker, then makes the
 * incremental result files it wrote (test/mutation/incremental/*.json,
 * checked in so CI re-runs only changed mutants) free of this machine's
 * paths (Stryker records the absolute project root, and a killed mutant's
 * failure message can quote a stack trace; it needs neither to reuse a
 * result) and compact (no indentation: less than half the size).
 * Exits with Stryker's status.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(root, 'test/mutation/incremental');

const run = spawnSync('npx', ['stryker', 'run', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});

for (const name of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
  const file = join(dir, name);
  const text = readFileSync(file, 'utf8');
  const result = JSON.parse(text);
  result.projectRoot = '.';
  // A test's failure message can hold this machine's paths (a stack trace);
  // Stryker only shows it, and reuses a result without it.
  for (const file of Object.values(result.files ?? {})) {
    for (const mutant of file.mutants ?? []) delete mutant.statusReason;
  }
  const compact = `${JSON.stringify(result)}\n`;
  if (compact !== text) writeFileSync(file, compact);
}
process.exit(run.status ?? 1);
