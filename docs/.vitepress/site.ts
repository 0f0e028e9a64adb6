/**
 * Where the site is published. There is no public host yet: `SITE_URL` stays
 * empty and the README links to the markdown pages relatively. Set it (or
 * STACKLIGHT_DOCS_URL when building) to the site's address, e.g.
 * `https://docs.example.org/stacklight/`, once one exists: the sitemap is
 * then generated and `base` follows the URL's path.
 */
export const SITE_URL: string = process.env.STACKLIGHT_DOCS_URL ?? '';

/** The path the site is served under (`/` locally and without a host). */
export const SITE_BASE: string = SITE_URL ? new URL(SITE_URL).pathname.replace(/\/?$/, '/') : '/';

/**
 * Where the repository's files can be browsed (e.g. `https://git.example.org/stacklight/blob/main/`).
 * Pages link to examples and tests relatively (`../examples/worker/worker.ts`), which works when
 * the markdown is read in the repository; on the site such a link points here, or, while this is
 * empty, is shown as the file's name without a link.
 */
export const REPO_FILES_URL: string = process.env.STACKLIGHT_REPO_FILES_URL ?? '';
