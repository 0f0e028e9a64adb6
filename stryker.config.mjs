// @ts-check
import { selectedGroupNames, selectedGroups } from './test/mutation/groups.mjs';

/**
 * Mutation testing of the modules that guard secrets, traces, cardinality
 * and shutdown: `npm run test:mutation`. Each mutant runs only the tests
 * that cover it (coverageAnalysis perTest) out of vitest.mutation.config.ts.
 * The modules and their tests are listed by group in test/mutation/groups.mjs;
 * `MUTATION_GROUP=metrics npm run test:mutation` runs one group.
 * Surviving mutants that are equivalent are listed with their reason in
 * test/mutation/REPORT.md.
 *
 * `--incremental` reuses the results in test/mutation/incremental/<group>.json
 * (checked in) for every mutant whose code and covering tests did not change
 * (CI runs so); `--incremental --force` runs every mutant and rewrites it.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const name = selectedGroupNames().join(',');
const groups = selectedGroups();
const report = `.tmp/mutation/${process.env['MUTATION_GROUP'] ? name : 'all'}`;

export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  checkers: [],
  mutate: [...new Set(groups.flatMap((g) => g.mutate))],
  concurrency: 2,
  timeoutMS: 10_000,
  // Static (module-load) mutants of the groups that ask (groups.mjs).
  ignoreStatic: groups.some((g) => g.ignoreStatic === true),
  // The initial run covers every listed test file once, on a shared 2-core machine.
  dryRunTimeoutMinutes: 30,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `${report}.html` },
  jsonReporter: { fileName: `${report}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  // Fails under the lowest floor of the selected groups (groups.mjs).
  thresholds: { high: 95, low: 85, break: Math.min(...groups.map((g) => g.break)) },
  incrementalFile: `test/mutation/incremental/${process.env['MUTATION_GROUP'] ? name : 'all'}.json`,
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['bench/results', '.tmp', 'dist', 'docs/.vitepress'],
};
