import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildLogJsonSchema } from '../../src/logging/json-schema.js';

const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, 'log-schema', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

type Schema = { properties: Record<string, { type?: string; description?: string }> };

describe('stacklight log-schema', () => {
  it('prints the bare line schema without declared fields', () => {
    const r = run();
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(buildLogJsonSchema());
  });

  it("adds the fields of a config module's logging.fields and of --fields", () => {
    const dir = mkdtempSync(join(tmpdir(), 'stacklight-log-schema-'));
    const file = join(dir, 'telemetry.config.mjs');
    writeFileSync(
      file,
      "export default { service: 'core', logging: { fields: { tenant: 'string', cached: 'boolean' } } };\n",
    );
    const r = run('--config', file, '--fields', 'attempt_no=integer');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const schema = JSON.parse(r.stdout) as Schema;
    expect(schema.properties.tenant?.type).toBe('string');
    expect(schema.properties.cached?.type).toBe('boolean');
    expect(schema.properties.attempt_no?.type).toBe('integer');
    expect(schema.properties.status?.type).toBe('integer');
  });

  it('refuses what init() refuses, with its message', () => {
    const r = run('--fields', 'status=string');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'stacklight log-schema: stacklight: logging.fields must be an object of names that are not fields of the log schema',
    );
    expect(r.stdout).toBe('');
    expect(run('--fields', 'tenant').status).toBe(2);
  });
});
