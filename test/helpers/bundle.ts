/**
 * Bundles a TypeScript fixture into plain JavaScript for a child process
 * that must start without a TypeScript loader: tsx's loader touches
 * `process.stdout` (making a stdout pipe non-blocking) before the fixture
 * runs, which would hide what a compiled service sees. Dependencies stay
 * external and resolve from the repository's node_modules.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export async function bundleFixture(name: string): Promise<string> {
  const entry = fileURLToPath(new URL(`../fixtures/${name}.ts`, import.meta.url));
  const out = fileURLToPath(
    new URL(`../../node_modules/.cache/stacklight-tests/${name}.mjs`, import.meta.url),
  );
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: out,
    logLevel: 'silent',
  });
  return out;
}
