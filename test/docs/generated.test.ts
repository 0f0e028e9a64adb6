import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { renderPageFormatted } from '../../scripts/docs-tables.js';

const dir = new URL('../../docs/', import.meta.url);
const pages = readdirSync(dir).filter((f) => f.endsWith('.md'));

describe('docs generated from the catalogs', () => {
  it.each(pages)('docs/%s is up to date (run npm run docs)', async (file) => {
    const url = new URL(file, dir);
    const page = readFileSync(url, 'utf8');
    expect(await renderPageFormatted(page, fileURLToPath(url))).toBe(page);
  });

  it('lists every catalog metric on the metrics page', async () => {
    const { allMetricDefinitions } = await import('../../src/metrics/catalog.js');
    const page = readFileSync(new URL('metrics.md', dir), 'utf8');
    for (const def of allMetricDefinitions())
      expect(page).toMatch(new RegExp(`\\| \`${def.name}\` +\\|`));
  });
});
