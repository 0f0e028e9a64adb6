/**
 * The sidebar, discovered from the files under docs/ when the site is built.
 *
 * Top-level pages are placed in the section `SECTIONS` names them in; a page
 * that no section names lands in "More". Every folder of markdown pages
 * (docs/lint/, docs/runbooks/, docs/slo/, docs/api/ …) becomes a group of its
 * own, placed where `SECTIONS` names the folder or at the end. A page's title
 * is its frontmatter `title` or its first `# ` heading. A section or folder
 * without pages is simply absent, so a new page appears without editing the
 * config and nothing announces pages that do not exist yet.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DefaultTheme } from 'vitepress';

/** A top-level page (file name without `.md`) or a folder (`name/`). */
type Entry = string;

/** The sections of the sidebar in order, each listing its pages and folders in order. */
export const SECTIONS: readonly { readonly text: string; readonly items: readonly Entry[] }[] = [
  { text: 'Introduction', items: ['getting-started', 'adopting'] },
  {
    text: 'Guides',
    items: ['configuration', 'http', 'workers', 'events', 'tracing', 'testing'],
  },
  { text: 'Conventions', items: ['conventions', 'metrics', 'logging', 'lint/'] },
  { text: 'Operations', items: ['slo', 'slo/', 'dashboards', 'runbooks/', 'performance'] },
  { text: 'Reference', items: ['privacy', 'versioning', 'api/'] },
];

/** Group titles of folders without an index.md of their own. */
const FOLDER_TITLES: Record<string, string> = {
  api: 'API reference',
  lint: 'Lint rules',
  runbooks: 'Runbooks',
  slo: 'SLOs',
};

/** Folders that are not pages of the site. */
const IGNORED_DIRS = new Set(['.vitepress', 'public', 'node_modules']);

/** The title of a markdown page: frontmatter `title`, else its first level-1 heading, else its name. */
export function pageTitle(file: string, fallback: string): string {
  const text = readFileSync(file, 'utf8');
  const front = /^---\n([\s\S]*?)\n---/.exec(text);
  const title = front && /^title:\s*['"]?(.+?)['"]?\s*$/m.exec(front[1]!);
  if (title) return title[1]!;
  const body = front ? text.slice(front[0].length) : text;
  const h1 = /^# (.+)$/m.exec(body);
  return h1 ? h1[1]!.replace(/`/g, '').trim() : fallback;
}

/** Sorts names so that `rb-2` comes before `rb-10`, and `index` first. */
const byName = (a: string, b: string): number =>
  a === 'index' ? -1 : b === 'index' ? 1 : a.localeCompare(b, 'en', { numeric: true });

/** The pages of a folder (recursively), as sidebar items; index.md is the group's link. */
function folderGroup(root: string, rel: string): DefaultTheme.SidebarItem | undefined {
  const dir = join(root, rel);
  const names = readdirSync(dir).sort(byName);
  const items: DefaultTheme.SidebarItem[] = [];
  let link: string | undefined;
  for (const name of names) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      const sub = folderGroup(root, `${rel}/${name}`);
      if (sub) items.push(sub);
    } else if (name.endsWith('.md')) {
      const base = name.slice(0, -3);
      if (base === 'index') link = `/${rel}/`;
      else items.push({ text: pageTitle(path, base), link: `/${rel}/${base}` });
    }
  }
  if (items.length === 0 && link === undefined) return undefined;
  const index = join(dir, 'index.md');
  const name = rel.split('/').pop()!;
  const text = existsSync(index) ? pageTitle(index, name) : (FOLDER_TITLES[rel] ?? name);
  return { text, ...(link ? { link } : {}), items, collapsed: items.length > 12 };
}

/**
 * The generated API reference (docs/api/) has a page per declaration; the
 * sidebar lists its modules only (each module page links to the rest).
 */
function apiGroup(root: string): DefaultTheme.SidebarItem | undefined {
  const modules: DefaultTheme.SidebarItem[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort(byName)) {
      const path = join(root, rel, name);
      if (!statSync(path).isDirectory()) continue;
      const index = join(path, 'index.md');
      if (existsSync(index))
        modules.push({ text: pageTitle(index, name), link: `/${rel}/${name}/` });
      walk(`${rel}/${name}`);
    }
  };
  walk('api');
  if (!existsSync(join(root, 'api', 'index.md'))) return undefined;
  return { text: FOLDER_TITLES.api!, link: '/api/', items: modules };
}

/** Builds the sidebar from the markdown files under `root` (the docs/ folder). */
export function discoverSidebar(root: string): DefaultTheme.SidebarItem[] {
  const pages = new Set(
    readdirSync(root)
      .filter((f) => f.endsWith('.md') && f !== 'index.md')
      .map((f) => f.slice(0, -3)),
  );
  const dirs = new Set(
    readdirSync(root).filter(
      (f) => !IGNORED_DIRS.has(f) && !f.startsWith('.') && statSync(join(root, f)).isDirectory(),
    ),
  );
  const item = (entry: Entry): DefaultTheme.SidebarItem | undefined => {
    if (entry.endsWith('/')) {
      const dir = entry.slice(0, -1);
      if (!dirs.has(dir)) return undefined;
      dirs.delete(dir);
      return dir === 'api' ? apiGroup(root) : folderGroup(root, dir);
    }
    if (!pages.has(entry)) return undefined;
    pages.delete(entry);
    return { text: pageTitle(join(root, `${entry}.md`), entry), link: `/${entry}` };
  };
  const sidebar: DefaultTheme.SidebarItem[] = [];
  for (const section of SECTIONS) {
    const items = section.items.map(item).filter((i) => i !== undefined);
    if (items.length > 0) sidebar.push({ text: section.text, items });
  }
  const more = [...pages]
    .sort(byName)
    .map(item)
    .filter((i) => i !== undefined);
  if (more.length > 0) sidebar.push({ text: 'More', items: more });
  for (const dir of [...dirs].sort(byName)) {
    const group = folderGroup(root, dir);
    if (group) sidebar.push(group);
  }
  return sidebar;
}
