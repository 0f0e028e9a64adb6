import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^stacklight$/,
        replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)),
      },
      {
        find: /^stacklight\/fastify$/,
        replacement: fileURLToPath(new URL('./src/fastify.ts', import.meta.url)),
      },
      {
        find: /^stacklight\/express$/,
        replacement: fileURLToPath(new URL('./src/express.ts', import.meta.url)),
      },
      {
        find: /^stacklight\/bullmq$/,
        replacement: fileURLToPath(new URL('./src/bullmq.ts', import.meta.url)),
      },
      {
        find: /^stacklight\/eslint-plugin$/,
        replacement: fileURLToPath(new URL('./src/eslint-plugin.ts', import.meta.url)),
      },
      {
        find: /^stacklight\/testing$/,
        replacement: fileURLToPath(new URL('./src/testing.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // The shell's OTEL_*, STACKLIGHT_* and SENTRY_* never reach a test.
    setupFiles: ['test/setup/clean-env.ts'],
    // Redis started when none answers, missing system packages installed or named.
    globalSetup: ['test/setup/system.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Test files share process-wide OpenTelemetry globals: one process per file.
    pool: 'forks',
  },
});
