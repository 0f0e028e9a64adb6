/**
 * Links that work on the package registry's page, where a relative link
 * (`docs/http.md`) leads nowhere and a package without `homepage`,
 * `repository` and `bugs` shows none. There is no public address in the
 * repository itself: the release pipeline gives them when it packs.
 *
 *   node scripts/publish-links.mjs check     every relative README link names a file or folder that exists
 *   node scripts/publish-links.mjs absolute  (prepack) README links and package.json fields from the addresses
 *   node scripts/publish-links.mjs restore   (postpack, postpublish) puts README.md and package.json back
 *
 * The addresses: STACKLIGHT_DOCS_URL, the site (the same setting the docs
 * build reads, docs/.vitepress/site.ts; also `homepage`);
 * STACKLIGHT_REPO_FILES_URL, where repository files are browsed;
 * STACKLIGHT_REPOSITORY_URL (`repository`) and STACKLIGHT_ISSUES_URL
 * (`bugs`). A `docs/…` page becomes the site's page (clean URLs:
 * `docs/http.md#x` → `<site>http#x`, `docs/lint/index.md` → `<site>lint/`),
 * any other file (`examples/demo/`, `CHANGELOG.md`) the repository's. Without
 * an address it says so in one line and changes nothing: the links then work
 * in the repository, not on the registry page.
 *
 * `npm publish` reads the manifest and README again after `postpack` to
 * send them to the registry, so under publish the restore waits for
 * `postpublish`.
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

/** package.json with `homepage`, `repository` and `bugs` set from the addresses given. */
export function withPackageLinks(pkg, { siteUrl, repositoryUrl, issuesUrl }) {
  const out = { ...pkg };
  if (siteUrl) out.homepage = siteUrl;
  if (repositoryUrl) out.repository = { type: 'git', url: repositoryUrl };
  if (issuesUrl) out.bugs = { url: issuesUrl };
  return out;
}

const FILES = ['README.md', 'package.json'];

function main(command) {
  const readme = join(root, 'README.md');
  const savedDir = join(root, '.tmp', 'publish-links');
  if (command === 'check') {
    const missing = missingTargets(readFileSync(readme, 'utf8'));
    if (missing.length > 0) {
      console.error(`README.md links to files that do not exist: ${missing.join(', ')}`);
      process.exit(1);
    }
    return;
  }
  if (command === 'absolute') {
    const env = process.env;
    const urls = {
      siteUrl: env.STACKLIGHT_DOCS_URL ?? '',
      repoFilesUrl: env.STACKLIGHT_REPO_FILES_URL ?? '',
      repositoryUrl: env.STACKLIGHT_REPOSITORY_URL ?? '',
      issuesUrl: env.STACKLIGHT_ISSUES_URL ?? '',
    };
    if (!Object.values(urls).some(Boolean)) {
      console.error(
        'publish-links: STACKLIGHT_DOCS_URL is not set; the package keeps relative README links and no homepage',
      );
      return;
    }
    mkdirSync(savedDir, { recursive: true });
    for (const file of FILES) copyFileSync(join(root, file), join(savedDir, file));
    writeFileSync(readme, absoluteLinks(readFileSync(readme, 'utf8'), urls));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    writeFileSync(
      join(root, 'package.json'),
      `${JSON.stringify(withPackageLinks(pkg, urls), null, 2)}\n`,
    );
    return;
  }
  if (command === 'restore') {
    // Under `npm publish`, postpack comes before the registry reads the files.
    if (process.env.npm_lifecycle_event === 'postpack' && process.env.npm_command === 'publish') {
      return;
    }
    for (const file of FILES) {
      const saved = join(savedDir, file);
      if (existsSync(saved)) {
        copyFileSync(saved, join(root, file));
        rmSync(saved);
      }
    }
    return;
  }
  console.error('usage: node scripts/publish-links.mjs check|absolute|restore');
  process.exit(2);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv[2]);
