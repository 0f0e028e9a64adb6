/**
 * The docs site's build-time helpers: the sidebar discovered from the files
 * under docs/, the API entry points read from package.json, the extraction of
 * the code samples that CI type-checks, and the links from pages to files
 * outside docs/. The site itself is built and opened in Chromium by
 * scripts/docs-browser-test.mjs (CI's "docs" steps).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverSidebar } from '../../docs/.vitepress/sidebar.js';
import { repoPath } from '../../docs/.vitepress/repo-links.js';
import { apiEntryPoints } from '../../scripts/docs-api.js';
import { regionsOf, samplesOf } from '../../scripts/docs-samples.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A docs folder with the given files (path → content). */
function site(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'stacklight-docs-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('discoverSidebar', () => {
  it('places known pages in their sections, titled by their first heading', () => {
    const sidebar = discoverSidebar(
      site({
        'index.md': '# Home',
        'getting-started.md': '# Getting started',
        'metrics.md': '---\ntitle: Metric catalog\n---\n# Metrics',
        'conventions.md': 'intro\n\n# Conventions',
      }),
    );
    expect(sidebar).toEqual([
      { text: 'Introduction', items: [{ text: 'Getting started', link: '/getting-started' }] },
      {
        text: 'Conventions',
        items: [
          { text: 'Conventions', link: '/conventions' },
          { text: 'Metric catalog', link: '/metrics' },
        ],
      },
    ]);
  });

  it('shows the pages a folder gains without a config change, in numeric order', () => {
    const root = site({
      'logging.md': '# Logging',
      'runbooks/rb-10-late.md': '# RB-10 Late',
      'runbooks/rb-02-queue.md': '# RB-02 Queue backlog',
      'lint/no-raw-path.md': '# no-raw-path',
      'notes.md': '# Notes',
      'extras/a.md': '# A',
    });
    const sidebar = discoverSidebar(root);
    expect(sidebar.map((s) => s.text)).toEqual(['Conventions', 'Operations', 'More', 'extras']);
    expect(sidebar[0]!.items).toEqual([
      { text: 'Logging', link: '/logging' },
      {
        text: 'Lint rules',
        items: [{ text: 'no-raw-path', link: '/lint/no-raw-path' }],
        collapsed: false,
      },
    ]);
    expect(sidebar[1]!.items![0]!.items!.map((i) => i.link)).toEqual([
      '/runbooks/rb-02-queue',
      '/runbooks/rb-10-late',
    ]);
    expect(sidebar[2]!.items).toEqual([{ text: 'Notes', link: '/notes' }]);
  });

  it('leaves out sections and folders that have no pages', () => {
    const root = site({ 'http.md': '# HTTP', 'runbooks/.gitkeep': '', 'lint/README.txt': 'x' });
    expect(discoverSidebar(root)).toEqual([
      { text: 'Guides', items: [{ text: 'HTTP', link: '/http' }] },
    ]);
  });

  it('lists the modules of the API reference, not every declaration', () => {
    const root = site({
      'api/index.md': '# API reference',
      'api/stacklight/index.md': '# stacklight',
      'api/stacklight/functions/init.md': '# init',
      'api/stacklight/fastify/index.md': '# stacklight/fastify',
    });
    expect(discoverSidebar(root)).toEqual([
      {
        text: 'Reference',
        items: [
          {
            text: 'API reference',
            link: '/api/',
            items: [
              { text: 'stacklight', link: '/api/stacklight/' },
              { text: 'stacklight/fastify', link: '/api/stacklight/fastify/' },
            ],
          },
        ],
      },
    ]);
  });
});

describe('apiEntryPoints', () => {
  it('documents every JavaScript export of this package from its source', () => {
    const entries = apiEntryPoints();
    expect(entries.get('stacklight')).toBe('src/index.ts');
    expect(entries.get('stacklight/fastify')).toBe('src/fastify.ts');
    expect(entries.get('stacklight/express')).toBe('src/express.ts');
    expect(entries.get('stacklight/bullmq')).toBe('src/bullmq.ts');
    expect([...entries.keys()].some((k) => k.endsWith('.json'))).toBe(false);
  });

  it('follows a new subpath export to src/NAME.ts or src/NAME/index.ts, and names a missing one', () => {
    const exp = (name: string) => ({ import: { default: `./dist/${name}.js` } });
    const root = `${site({
      'package.json': JSON.stringify({
        name: 'pkg',
        exports: { '.': exp('index'), './testing': exp('testing'), './data.json': './data.json' },
      }),
      'src/index.ts': '',
      'src/testing/index.ts': '',
    })}/`;
    expect([...apiEntryPoints(root)]).toEqual([
      ['pkg', 'src/index.ts'],
      ['pkg/testing', 'src/testing/index.ts'],
    ]);
    writeFileSync(
      `${root}package.json`,
      JSON.stringify({ name: 'pkg', exports: { './lint': exp('lint') } }),
    );
    expect(() => apiEntryPoints(root)).toThrow(
      'docs-api: export "./lint" has no source (looked for src/lint.ts, src/lint/index.ts)',
    );
  });
});

describe('samplesOf', () => {
  it('finds ts blocks with their first line, honouring no-check and VitePress fence options', () => {
    const page = [
      '# Page', //                      1
      '```ts', //                       2
      "import { init } from 'stacklight';", // 3
      '```', //                         4
      '```js', //                       5
      'no()', //                        6
      '```', //                         7
      '- a list item:', //              8
      '', //                            9
      '  ```ts{2}', //                  10
      '  const a = 1;', //              11
      '  ```', //                       12
      '```ts no-check', //              13
      'telemetry.x;', //                14
      '```', //                         15
      '````typescript', //              16
      '```ts', //                       17 (inside a longer fence)
      '````', //                        18
    ].join('\n');
    expect(samplesOf(page, 'p.md')).toEqual([
      { page: 'p.md', line: 3, code: "import { init } from 'stacklight';", check: true },
      { page: 'p.md', line: 11, code: 'const a = 1;', check: true },
      { page: 'p.md', line: 14, code: 'telemetry.x;', check: false },
      { page: 'p.md', line: 17, code: '```ts', check: true },
    ]);
  });
});

describe('regionsOf', () => {
  it('joins the parts of a region, dedented, as the page shows them', () => {
    const source = [
      'const hidden = 0;',
      '  // #region setup',
      '  const a = 1;',
      '  // #endregion',
      'const b = 2;',
      '// #region setup',
      'const c = 3;',
      '// #endregion',
    ].join('\n');
    expect(regionsOf(source)).toEqual(['const a = 1;\n\nconst c = 3;']);
  });
});

describe('repoPath', () => {
  it('names the repository file of a link that leaves docs/, and nothing else', () => {
    expect(repoPath('../examples/worker/worker.ts', 'workers.md')).toBe(
      'examples/worker/worker.ts',
    );
    expect(repoPath('../../test/a.test.ts#L3', 'runbooks/rb-01.md')).toBe('test/a.test.ts');
    expect(repoPath('../metrics.md#the-catalog', 'runbooks/rb-01.md')).toBeUndefined();
    expect(repoPath('metrics.md', 'index.md')).toBeUndefined();
    expect(repoPath('https://example.org/x', 'index.md')).toBeUndefined();
    expect(repoPath('#anchor', 'index.md')).toBeUndefined();
  });
});
