/** Shared by the demo tests: the demo's command, a clean environment, a port nothing listens on. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The `demo` script of package.json, as node arguments (`--import tsx examples/demo/run.ts`). */
export function demoCommand(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [node, ...args] = pkg.scripts.demo!.split(' ');
  if (node !== 'node')
    throw new Error(`the demo script does not start with node: ${pkg.scripts.demo}`);
  return args;
}

/** The environment of a clean shell: no OTLP endpoint, no test-runner settings of the parent. */
export function demoEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OTEL_|STACKLIGHT_|VITEST|REDIS_URL$|DATABASE_URL$)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
