/**
 * A markdown-it rule for links from a page to a file outside docs/
 * (`../examples/worker/worker.ts`): on the site they point into the
 * repository (`REPO_FILES_URL`), or, without one, keep their text and lose
 * the link, so that no page links to a file the site does not serve.
 */
import { posix } from 'node:path';
import type { MarkdownRenderer } from 'vitepress';

interface Env {
  readonly relativePath?: string;
}

/** The repository path a link leaves docs/ for, or undefined for a link inside the site. */
export function repoPath(href: string, pagePath: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:|^#|^\//i.test(href)) return undefined;
  const [path] = href.split('#');
  const resolved = posix.normalize(posix.join('docs', posix.dirname(pagePath), path!));
  return resolved.startsWith('docs/') ? undefined : resolved;
}

export function repoLinks(md: MarkdownRenderer, baseUrl: string): void {
  md.core.ruler.push('stacklight_repo_links', (state) => {
    const env = state.env as Env;
    for (const block of state.tokens) {
      const open: NonNullable<typeof block.children>[number][] = [];
      for (const token of block.children ?? []) {
        if (token.type === 'link_open') {
          const path = repoPath(token.attrGet('href') ?? '', env.relativePath ?? '');
          if (path === undefined) {
            open.push(token);
            continue;
          }
          if (baseUrl) {
            token.attrSet('href', new URL(path, baseUrl).href);
            open.push(token);
          } else {
            token.type = 'repo_path_open';
            token.tag = 'span';
            token.attrs = [['class', 'repo-path']];
            open.push(token);
          }
        } else if (token.type === 'link_close') {
          const opened = open.pop();
          if (opened?.type === 'repo_path_open') {
            token.type = 'repo_path_close';
            token.tag = 'span';
          }
        }
      }
    }
  });
}
