/**
 * The checked-in API report (api/<entry>.api.md, `npm run api:report`) against
 * what each entry exports at run time. `npm run api:check` compares the whole
 * declarations after a build; this catches an added or removed value export
 * in `npm test` already.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeReport, reportEntries } from '../../scripts/api-report.js';

const ENTRIES: Record<string, () => Promise<object>> = {
  index: () => import('../../src/index.js'),
  fastify: () => import('../../src/fastify.js'),
  express: () => import('../../src/express.js'),
  bullmq: () => import('../../src/bullmq.js'),
  testing: () => import('../../src/testing.js'),
  'eslint-plugin': () => import('../../src/eslint-plugin.js'),
};

/**
 * Names the report exports: `all` of them, and `values` (const, function, enum; a class may
 * be exported as a type only, as the guarded instruments are).
 */
function reportNames(entry: string): { all: Set<string>; values: Set<string> } {
  const text = readFileSync(`api/${entry}.api.md`, 'utf8');
  const all = new Set<string>();
  const values = new Set<string>();
  for (const m of text.matchAll(
    /^export (?:declare )?(?:abstract )?(const|let|function|class|enum|interface|type|namespace) (\w+)/gm,
  )) {
    all.add(m[2]!);
    if (['const', 'let', 'function', 'enum'].includes(m[1]!)) values.add(m[2]!);
  }
  for (const m of text.matchAll(/^export \{ ([^}]+) \}/gm))
    for (const name of m[1]!.split(',')) all.add(name.trim());
  if (/^export default /m.test(text)) {
    all.add('default');
    values.add('default');
  }
  return { all, values };
}

describe('API report', () => {
  it('has one report per entry of package.json exports', () => {
    expect([...reportEntries().keys()].sort()).toEqual(Object.keys(ENTRIES).sort());
  });

  it.each(Object.keys(ENTRIES))('lists every run-time export of %s, and no other value', async (entry) => {
    const runtime = Object.keys(await ENTRIES[entry]!()).sort();
    const { all, values } = reportNames(entry);
    expect(runtime.filter((name) => !all.has(name))).toEqual([]);
    expect([...values].filter((name) => !runtime.includes(name))).toEqual([]);
  });

  it('keeps no protocol internal or resolved configuration in the root entry', () => {
    const { all } = reportNames('index');
    for (const name of ['TraceStateList', 'parseTraceState', 'negotiateFormat', 'OPENMETRICS_CONTENT_TYPE', 'ResolvedConfig'])
      expect(all.has(name), name).toBe(false);
    expect(readFileSync('api/index.api.md', 'utf8')).not.toContain('ResolvedConfig');
    expect(all.has('LOG_FIELDS')).toBe(true);
  });

  it('normalizes the build chunk names and positions out of a report', () => {
    expect(
      normalizeReport(
        '// dist/init-B-4uha0k.d.ts:407:9 - (ae-forgotten-export) X\n' +
          '// dist/conventions-CWVSKjb-.d.cts:30:5 - (ae-undocumented) Y\n' +
          '// dist/index.d.ts:3:1 - (ae-undocumented) Z\n',
      ),
    ).toBe(
      '// dist/init.d.ts - (ae-forgotten-export) X\n' +
        '// dist/conventions.d.cts - (ae-undocumented) Y\n' +
        '// dist/index.d.ts - (ae-undocumented) Z\n',
    );
  });
});
