import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitepress';
import { mermaidFences } from './mermaid-fence.js';
import { discoverSidebar } from './sidebar.js';
import { repoLinks } from './repo-links.js';
import { REPO_FILES_URL, SITE_BASE, SITE_URL } from './site.js';

const root = fileURLToPath(new URL('../', import.meta.url));

// Dead links fail the build; only links to localhost (defaults such as the OTLP endpoint
// `http://localhost:4318/v1/traces` in the API reference) are not site links.
export default defineConfig({
  title: 'stacklight',
  description:
    'Telemetry SDK for Node.js services: Prometheus metrics, JSON logs with redaction and W3C tracing from one init().',
  lang: 'en-US',
  base: SITE_BASE,
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${SITE_BASE}favicon.svg` }]],
  cleanUrls: true,
  lastUpdated: false,
  ignoreDeadLinks: 'localhostLinks',
  srcExclude: ['**/README.md'],
  markdown: {
    config: (md) => {
      repoLinks(md, REPO_FILES_URL);
      mermaidFences(md);
    },
  },
  ...(SITE_URL ? { sitemap: { hostname: SITE_URL } } : {}),
  themeConfig: {
    nav: [
      { text: 'Getting started', link: '/getting-started' },
      { text: 'Configuration', link: '/configuration' },
      { text: 'Metric catalog', link: '/metrics' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: discoverSidebar(root),
    search: {
      provider: 'local',
      options: {
        // The API reference has a page per declaration; their names split into common words
        // (QUEUE_DEPTH_STATES → queue, depth, states) and would crowd the guides out of the
        // results. Its module pages, which list every declaration, stay in the index.
        _render(src, env, md) {
          const path = (env as { relativePath?: string }).relativePath ?? '';
          if (path.startsWith('api/') && !path.endsWith('index.md')) return '';
          return md.render(src, env);
        },
      },
    },
    outline: { level: [2, 3] },
  },
  vite: {
    // Mermaid is one large chunk, loaded only by pages with a diagram.
    build: { chunkSizeWarningLimit: 4096 },
  },
});
