/**
 * The README's links, for readers on the package registry's page, where a
 * relative link (`docs/http.md`) leads nowhere.
 *
 *   node scripts/readme-links.mjs check     every relative link names a file or folder that exists
 *   node scripts/readme-links.mjs absolute  (prepack) rewrites README.md's links to the published site
 *   node scripts/readme-links.mjs restore   (postpack) puts the repository's README.md back
 *
 * `absolute` takes the site's address from STACKLIGHT_DOCS_URL (the same
 * setting the docs build reads, docs/.vitepress/site.ts) and the address
 * where repository files are browsed from STACKLIGHT_REPO_FILES_URL: a
 * `docs/…` page becomes the site's page (clean URLs: `docs/http.md#x` →
 * `<site>http#x`, `docs/lint/index.md` → `<site>lint/`), any other file
 * (`examples/demo/`, `CHANGELOG.md`) the repository's. Without an address it
 * says so in one line and leaves the README as it is: the links then work
 * in the repository, not on the registry page.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Markdown inline links and their targets: `[text](target)`. */
const LINK = /\]\(([^)\s]+)\)/g;

const isRelative = (target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#');

const withSlash = (url) => (url.endsWith('/') ? url : `${url}/`);

/** The site's address of a `docs/` page, with clean URLs; `undefined` for other files. */
export function sitePath(target) {
  const [path, hash] = target.split('#');
  if (!path.startsWith('docs/') && path !== 'docs') return undefined;
  let page = path.replace(/^docs\/?/, '');
  if (page.endsWith('index.md')) page = page.slice(0, -'index.md'.length);
  else if (page.endsWith('.md')) page = page.slice(0, -'.md'.length);
  return hash === undefined ? page : `${page}#${hash}`;
}

/** The README's text with every relative link made absolute (where an address is given). */
export function absoluteLinks(text, { siteUrl, repoFilesUrl }) {
  return text.replace(LINK, (match, target) => {
    if (!isRelative(target)) return match;
    const page = sitePath(target);
    if (page !== undefined && siteUrl) return `](${withSlash(siteUrl)}${page})`;
    if (page === undefined && repoFilesUrl) return `](${withSlash(repoFilesUrl)}${target})`;
    return match;
  });
}

/** Relative link targets whose file or folder does not exist. */
export function missingTargets(text, dir = root) {
  const missing = [];
  for (const [, target] of text.matchAll(LINK)) {
    if (!isRelative(target)) continue;
    const path = target.split('#')[0];
    if (path && !existsSync(join(dir, path))) missing.push(target);
  }
  return missing;
}

function main(command) {
  const readme = join(root, 'README.md');
  const saved = join(root, '.tmp', 'README.repository.md');
  if (command === 'check') {
    const missing = missingTargets(readFileSync(readme, 'utf8'));
    if (missing.length > 0) {
      console.error(`README.md links to files that do not exist: ${missing.join(', ')}`);
      process.exit(1);
    }
    return;
  }
  if (command === 'absolute') {
    const siteUrl = process.env.STACKLIGHT_DOCS_URL ?? '';
    const repoFilesUrl = process.env.STACKLIGHT_REPO_FILES_URL ?? '';
    if (!siteUrl && !repoFilesUrl) {
      console.error(
        'readme-links: STACKLIGHT_DOCS_URL is not set; the packed README keeps relative links',
      );
      return;
    }
    const text = readFileSync(readme, 'utf8');
    mkdirSync(dirname(saved), { recursive: true });
    copyFileSync(readme, saved);
    writeFileSync(readme, absoluteLinks(text, { siteUrl, repoFilesUrl }));
    return;
  }
  if (command === 'restore') {
    if (existsSync(saved)) {
      copyFileSync(saved, readme);
      rmSync(saved);
    }
    return;
  }
  console.error('usage: node scripts/readme-links.mjs check|absolute|restore');
  process.exit(2);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv[2]);
