import { defineConfig, type ViteUserConfig } from 'vitest/config';
import { selectedGroups } from './test/mutation/groups.mjs';
import base from './vitest.config.js';

/**
 * The tests Stryker runs against the guarding modules (stryker.config.mjs):
 * those of the groups in test/mutation/groups.mjs selected by
 * MUTATION_GROUP. Tests of Redis, Prometheus and child processes are left
 * out: each mutant would cost seconds, and they cover no line of these
 * modules that the listed tests do not.
 */
const config = base as ViteUserConfig;
export default defineConfig({
  ...config,
  test: {
    ...config.test,
    // Replaces the suite's include (mergeConfig would append to it).
    include: [...new Set(selectedGroups().flatMap((g) => g.tests))],
  },
});
