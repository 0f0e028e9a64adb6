import { defineConfig } from 'tsup';

/**
 * One entry per subpath export. ESM (.js) and CommonJS (.cjs) with a
 * declaration file for each (.d.ts / .d.cts), so that `import` and
 * `require` consumers both get types that match the code they load.
 */
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    fastify: 'src/fastify.ts',
    express: 'src/express.ts',
    bullmq: 'src/bullmq.ts',
    'eslint-plugin': 'src/eslint-plugin.ts',
    testing: 'src/testing.ts',
    cli: 'src/cli.ts',
  },
  format: ['esm', 'cjs'],
  // Members marked `@internal` (the handle's resolved `config`, the guarded
  // instruments' series plumbing) stay out of the published declarations.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  // import.meta.url in the CJS build (self-check resolves modules from it).
  shims: true,
  treeshake: true,
  // The log line JSON Schema, published as `stacklight/log-schema.json` at the
  // package root (so that even node10 resolution finds it).
  onSuccess:
    "node -e \"require('fs').copyFileSync('src/logging/log-schema.json', 'log-schema.json')\"",
});
