// @ts-check
import { selectedGroups } from './test/mutation/groups.mjs';

/**
 * Mutation testing of the modules that guard secrets, traces, cardinality
 * and shutdown: `npm run test:mutation`. Each mutant runs only the tests
 * that cover it (coverageAnalysis perTest) out of vitest.mutation.config.ts.
 * The modules and their tests are listed by group in test/mutation/groups.mjs;
 * `MUTATION_GROUP=metrics npm run test:mutation` runs one group.
 * Surviving mutants that are equivalent are listed with their reason in
 * test/mutation/REPORT.md.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
const report = `.tmp/mutation/${process.env['MUTATION_GROUP'] || 'all'}`;

export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  checkers: [],
  mutate: [...new Set(selectedGroups().flatMap((g) => g.mutate))],
  concurrency: 2,
  timeoutMS: 10_000,
  // The initial run covers every listed test file once, on a shared 2-core machine.
  dryRunTimeoutMinutes: 30,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: `${report}.html` },
  jsonReporter: { fileName: `${report}.json` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  thresholds: { high: 95, low: 85, break: 85 },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['bench/results', '.tmp', 'dist', 'docs/.vitepress'],
};
