#!/usr/bin/env node
/**
 * Opens every page of the built docs site (docs/.vitepress/dist) in Chromium
 * and fails when:
 * - a page logs a console error, throws, or a same-origin request fails;
 * - a link to another page of the site, or an anchor (`page#id`), resolves to
 *   nothing (links to other hosts are not followed);
 * - a Mermaid diagram is left unrendered;
 * - the local search does not find a term of scripts/docs-browser-test.json on
 *   the page it names (`"page": "/runbooks/rb-03*"` for any page whose path
 *   starts so).
 * It writes the screenshots that file lists to SCREENSHOT_DIR.
 *
 * Usage: npm run docs:build && node scripts/docs-browser-test.mjs
 * Env:   CHROMIUM_PATH (default /usr/bin/chromium), DOCS_DIST,
 *        SCREENSHOT_DIR (default .tmp/docs-screenshots)
 */
// Functions passed to page.waitForFunction run in the browser.
/* global document, navigator */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DIST = process.env.DOCS_DIST ?? join(ROOT, 'docs/.vitepress/dist');
const SHOTS = process.env.SCREENSHOT_DIR ?? join(ROOT, '.tmp/docs-screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CONFIG = JSON.parse(
  readFileSync(new URL('./docs-browser-test.json', import.meta.url), 'utf8'),
);

function fail(message) {
  console.error(`docs-browser-test: ${message}`);
  process.exit(1);
}

if (!existsSync(join(DIST, 'index.html')))
  fail(`no built site at ${relative(ROOT, DIST)}; run \`npm run docs:build\` first`);
if (!existsSync(CHROMIUM))
  fail(
    `Chromium not found at ${CHROMIUM}; install it (apt-get install -y chromium) or set CHROMIUM_PATH`,
  );

// ---------------------------------------------------------------------------
// the site's pages, as VitePress serves them with cleanUrls

/** Every file of the built site, relative, with `/` separators. */
function files(dir = DIST) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [relative(DIST, path).split(sep).join('/')];
  });
}

/** `guide/index.html` → `/guide/`, `metrics.html` → `/metrics`. */
const pagePath = (file) => '/' + file.replace(/(^|\/)index\.html$/, '$1').replace(/\.html$/, '');

const allFiles = new Set(files());
const pages = [...allFiles]
  .filter((f) => f.endsWith('.html') && f !== '404.html')
  .map(pagePath)
  .sort();

/** The file a request path is served from, or undefined (404). */
function fileFor(path) {
  const p = decodeURIComponent(path).replace(/^\//, '');
  const candidates = p === '' || p.endsWith('/') ? [`${p}index.html`] : [p, `${p}.html`];
  return candidates.find((c) => allFiles.has(c));
}

/** The page a same-origin path shows (`/metrics.html` and `/metrics` are one page). */
function canonicalPage(path) {
  const file = fileFor(path);
  return file?.endsWith('.html') ? pagePath(file) : undefined;
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain',
};

const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://site').pathname;
  const file = fileFor(path);
  const status = file === undefined ? 404 : 200;
  const body = readFileSync(join(DIST, file ?? '404.html'));
  res.writeHead(status, {
    'content-type': TYPES[extname(file ?? '.html')] ?? 'application/octet-stream',
  });
  res.end(body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

// ---------------------------------------------------------------------------
// the browser

const problems = [];
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
// VitePress prefetches the pages every visible link points to, unless the connection asks to
// save data. Every page and link is checked here anyway; without the prefetches each of the
// ~170 page loads fetches dozens of chunks it does not use.
await context.addInitScript(() => {
  Object.defineProperty(navigator, 'connection', { value: { saveData: true } });
});

/** A tab whose console errors, uncaught errors and failed requests are problems of its page. */
async function tab() {
  const page = await context.newPage();
  const state = { page, current: '' };
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`${state.current}: console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`${state.current}: uncaught: ${err.message}`));
  page.on('requestfailed', (req) => {
    // A prefetch cut short by the next navigation is aborted, not broken.
    const error = req.failure()?.errorText ?? '';
    if (req.url().startsWith(origin) && error !== 'net::ERR_ABORTED')
      problems.push(`${state.current}: request failed: ${req.url()} (${error})`);
  });
  page.on('response', (res) => {
    if (res.url().startsWith(origin) && res.status() >= 400)
      problems.push(`${state.current}: HTTP ${res.status()} for ${res.url().slice(origin.length)}`);
  });
  return state;
}

/** Loads a page and waits until its diagrams are drawn. */
async function open(state, path) {
  state.current = path;
  const { page } = state;
  // A generous bound: CI machines are shared, and a page is only slow, not broken, at 10 s.
  await page.goto(origin + path, { waitUntil: 'load', timeout: 90_000 });
  const pending = await page
    .waitForFunction(
      () => [...document.querySelectorAll('.mermaid')].every((el) => el.querySelector('svg')),
      undefined,
      { timeout: 15_000 },
    )
    .then(() => 0)
    .catch(() =>
      page.$$eval('.mermaid', (els) => els.filter((el) => !el.querySelector('svg')).length),
    );
  if (pending > 0) problems.push(`${path}: ${pending} Mermaid diagram(s) not rendered`);
  diagrams += await page.$$eval('.mermaid svg', (els) => els.length);
}
let diagrams = 0;

const ids = new Map(); // page → Set of element ids
const links = []; // { from, href }
const queue = [...pages];
const TABS = 4;
await Promise.all(
  Array.from({ length: TABS }, async () => {
    const state = await tab();
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      await open(state, path);
      const { page } = state;
      ids.set(path, new Set(await page.$$eval('[id]', (els) => els.map((el) => el.id))));
      for (const href of await page.$$eval('a[href]', (as) => as.map((a) => a.href)))
        links.push({ from: path, href });
    }
    await state.page.close();
  }),
);

// Every same-origin link names a page (or a file) of the site, and its anchor an element of it.
let checked = 0;
for (const { from, href } of links) {
  const url = new URL(href);
  if (url.origin !== origin) continue;
  checked++;
  const target = canonicalPage(url.pathname);
  if (target === undefined) {
    if (fileFor(url.pathname) === undefined) problems.push(`${from}: dead link ${url.pathname}`);
    continue;
  }
  const anchor = decodeURIComponent(url.hash.slice(1));
  if (anchor !== '' && !ids.get(target)?.has(anchor))
    problems.push(`${from}: dead anchor ${url.pathname}#${anchor}`);
}

// ---------------------------------------------------------------------------
// local search

const main = await tab();
const page = main.page;
await open(main, '/');
for (const { query, page: expected } of CONFIG.search) {
  main.current = `search "${query}"`;
  await page.keyboard.press('Escape');
  await page.locator('.VPNavBarSearch button').first().click();
  const input = page.locator('.VPLocalSearchBox input');
  await input.waitFor();
  await input.fill(query);
  const found = await page
    .waitForFunction(
      (want) =>
        [...document.querySelectorAll('.VPLocalSearchBox .results a')].some((a) => {
          // `/runbooks/rb-03*` matches any page whose path starts so.
          const path = new URL(a.href).pathname.replace(/\.html$/, '');
          return want.endsWith('*') ? path.startsWith(want.slice(0, -1)) : path === want;
        }),
      expected,
      { timeout: 10_000 },
    )
    .then(() => true)
    .catch(() => false);
  const hits = await page.$$eval('.VPLocalSearchBox .results a', (as) =>
    as.map((a) => new URL(a.href).pathname + new URL(a.href).hash),
  );
  if (!found)
    problems.push(
      `search "${query}" finds no result on ${expected} (results: ${hits.slice(0, 5).join(', ') || 'none'})`,
    );
  else console.log(`search "${query}": ${hits.length} results, ${expected} among them`);
  await page.keyboard.press('Escape');
}

// ---------------------------------------------------------------------------
// screenshots

mkdirSync(SHOTS, { recursive: true });
for (const shot of CONFIG.screenshots) {
  const path =
    shot.path ?? pages.find((p) => p.startsWith(shot.firstPageUnder) && p !== shot.firstPageUnder);
  if (path === undefined) {
    console.log(`screenshot ${shot.name}: no page under ${shot.firstPageUnder} yet, not taken`);
    continue;
  }
  await open(main, path);
  const file = join(SHOTS, `${shot.name}.png`);
  // Transitions (the nav bar's background after the scroll to an anchor) are finished first.
  await page.screenshot({ path: file, fullPage: false, animations: 'disabled' });
  console.log(`screenshot ${shot.name}: ${path} → ${relative(ROOT, file)}`);
}

await browser.close();
server.close();

// The site has diagrams (tracing, events): none drawn means Mermaid is not wired in at all.
if (diagrams === 0) problems.push('no Mermaid diagram was rendered on any page');
console.log(
  `docs-browser-test: ${pages.length} pages opened, ${checked} internal links checked, ` +
    `${diagrams} diagrams drawn, ${CONFIG.search.length} searches`,
);
if (problems.length > 0) {
  for (const p of [...new Set(problems)]) console.error(`  ${p}`);
  fail(`${new Set(problems).size} problem(s)`);
}
