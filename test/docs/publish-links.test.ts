import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  absoluteLinks,
  missingTargets,
  sitePath,
  withPackageLinks,
  // @ts-expect-error: a plain ESM script without types
} from '../../scripts/publish-links.mjs';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const site = 'https://docs.example.test/stacklight/';
const repo = 'https://code.example.test/stacklight/blob/main/';

describe("the README's links", () => {
  it('name files and folders that exist', () => {
    expect(missingTargets(readme)).toEqual([]);
    expect(missingTargets('[a](docs/nope.md) [b](https://x.test/) [c](#local)')).toEqual([
      'docs/nope.md',
    ]);
  });

  it("point at the site's pages when packed with the site's address", () => {
    const text = [
      '[http](docs/http.md)',
      '[anchor](docs/tracing.md#sampling)',
      '[lint](docs/lint/index.md)',
      '[site](docs/)',
      '[demo](examples/demo/)',
      '[changes](CHANGELOG.md)',
      '[abs](https://other.example.test/x)',
      '[here](#set-up)',
    ].join('\n');
    expect(absoluteLinks(text, { siteUrl: site, repoFilesUrl: repo }).split('\n')).toEqual([
      `[http](${site}http)`,
      `[anchor](${site}tracing#sampling)`,
      `[lint](${site}lint/)`,
      `[site](${site})`,
      `[demo](${repo}examples/demo/)`,
      `[changes](${repo}CHANGELOG.md)`,
      '[abs](https://other.example.test/x)',
      '[here](#set-up)',
    ]);
    // Without a repository address, files outside docs/ keep their relative link.
    expect(
      absoluteLinks('[d](examples/demo/)', { siteUrl: 'https://d.test', repoFilesUrl: '' }),
    ).toBe('[d](examples/demo/)');
  });

  it('leave no relative docs link behind in the real README', () => {
    const packed: string = absoluteLinks(readme, { siteUrl: site, repoFilesUrl: repo });
    const relative = [...packed.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((t) => !t.startsWith('https://') && !t.startsWith('#'));
    expect(relative).toEqual([]);
    expect(packed).toContain(`${site}performance`);
    expect(sitePath('docs/runbooks/index.md#rb-03')).toBe('runbooks/#rb-03');
  });

  it('fill homepage, repository and bugs of package.json from the addresses given', () => {
    const pkg = { name: 'stacklight', version: '1.0.0' };
    expect(
      withPackageLinks(pkg, {
        siteUrl: site,
        repositoryUrl: 'git+https://code.example.test/stacklight.git',
        issuesUrl: 'https://code.example.test/stacklight/issues',
      }),
    ).toEqual({
      name: 'stacklight',
      version: '1.0.0',
      homepage: site,
      repository: { type: 'git', url: 'git+https://code.example.test/stacklight.git' },
      bugs: { url: 'https://code.example.test/stacklight/issues' },
    });
    expect(withPackageLinks(pkg, { siteUrl: '', repositoryUrl: '', issuesUrl: '' })).toEqual(pkg);
  });
});
