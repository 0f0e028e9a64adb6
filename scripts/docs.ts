// Rewrites the generated tables of docs/*.md from the catalogs.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderPageFormatted } from './docs-tables.js';

const dir = new URL('../docs/', import.meta.url).pathname;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.md'))) {
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = await renderPageFormatted(before, path);
  if (after !== before) {
    writeFileSync(path, after);
    console.log(`updated docs/${file}`);
  }
}
