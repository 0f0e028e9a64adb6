/**
 * The API report: every exported declaration of every entry point, as API
 * Extractor sees it in the built declarations (dist/*.d.ts), checked in under
 * api/ (`api/<entry>.api.md`), so that each change to the public surface is a
 * reviewed diff.
 *
 *   npm run api:report   rewrite api/ from dist/ (run `npm run build` first)
 *   npm run api:check    fail, with a diff, when dist/ and api/ disagree
 *
 * The entries are read from `exports` in package.json (`types` of its `import`
 * condition), so a new subpath gets a report of its own. tsup names its shared
 * declaration chunks by content hash (`init-B-4uha0k.d.ts`); the file names
 * and line numbers API Extractor prints for warnings it cannot attach to a
 * declaration are normalized away, so that a report changes only when the
 * surface does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const REPORTS = join(ROOT, 'api');
const TEMP = join(ROOT, '.tmp', 'api-report');

interface ExportTarget {
  readonly import?: { readonly types?: string };
}

/** `{ entry name → dist/*.d.ts }` for every subpath export with declarations. */
export function reportEntries(root = ROOT): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    exports: Record<string, string | ExportTarget>;
  };
  const entries = new Map<string, string>();
  for (const target of Object.values(pkg.exports)) {
    const types = typeof target === 'string' ? undefined : target.import?.types;
    const m = types === undefined ? null : /^\.\/dist\/(.+)\.d\.ts$/.exec(types);
    if (m !== null) entries.set(m[1]!, join(root, types!));
  }
  return entries;
}

/** Report text without the build's chunk hashes and line numbers. */
export function normalizeReport(text: string): string {
  return text
    .replace(/\b(dist\/[\w.-]+?)-[\w-]{8}(\.d\.c?ts)\b/g, '$1$2')
    .replace(/(\.d\.c?ts):\d+:\d+\b/g, '$1');
}

/** Runs API Extractor on one entry; returns the normalized report text. */
function extract(name: string, dts: string): string {
  const reportFileName = `${name}.api.md`;
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: ROOT,
      mainEntryPointFilePath: dts,
      compiler: {
        // Only the built declarations: the repository's tsconfig maps
        // `stacklight` to src/ and includes tests.
        overrideTsconfig: {
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: true,
            types: ['node'],
          },
          files: [dts],
        },
      },
      apiReport: {
        enabled: true,
        reportFolder: TEMP,
        reportTempFolder: join(TEMP, 'work'),
        reportFileName,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
          // Release tags (@public, @beta) are not used: what is exported is public.
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
          'ae-undocumented': { logLevel: ExtractorLogLevel.None },
          // @eslint/plugin-kit ships .d.cts declarations; nothing to act on.
          'ae-wrong-input-file-type': { logLevel: ExtractorLogLevel.None },
        },
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
      },
    },
    configObjectFullPath: join(ROOT, 'api-extractor.json'),
    packageJsonFullPath: join(ROOT, 'package.json'),
  });
  const result = Extractor.invoke(config, {
    localBuild: true,
    // Analyse with the project's TypeScript, not the one API Extractor bundles.
    typescriptCompilerFolder: dirname(
      createRequire(import.meta.url).resolve('typescript/package.json'),
    ),
    messageCallback: (message) => {
      // Findings go into the report itself; the console keeps only errors.
      if (message.logLevel !== ExtractorLogLevel.Error) message.handled = true;
    },
  });
  if (!result.succeeded)
    throw new Error(`api-report: API Extractor failed on ${dts} (${result.errorCount} errors)`);
  return normalizeReport(readFileSync(join(TEMP, reportFileName), 'utf8'));
}

function main(): void {
  const check = process.argv.includes('--check');
  const entries = reportEntries();
  for (const dts of entries.values())
    if (!existsSync(dts)) throw new Error(`api-report: ${dts} is missing; run \`npm run build\``);
  rmSync(TEMP, { recursive: true, force: true });
  mkdirSync(REPORTS, { recursive: true });
  const expected = new Set([...entries.keys()].map((name) => `${name}.api.md`));
  const changed: string[] = [];
  for (const [name, dts] of entries) {
    const text = extract(name, dts);
    const file = join(REPORTS, `${name}.api.md`);
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (before === text) continue;
    changed.push(`api/${name}.api.md`);
    if (check) {
      const fresh = join(TEMP, 'fresh', `${name}.api.md`);
      mkdirSync(dirname(fresh), { recursive: true });
      writeFileSync(fresh, text);
      // A unified diff: what the checked-in report says → what the build exports.
      spawnSync(
        'diff',
        [
          '-u',
          '--label',
          `api/${name}.api.md`,
          '--label',
          'built',
          before === undefined ? '/dev/null' : file,
          fresh,
        ],
        {
          stdio: 'inherit',
        },
      );
    } else {
      writeFileSync(file, text);
    }
  }
  for (const stale of readdirSync(REPORTS).filter(
    (f) => f.endsWith('.api.md') && !expected.has(f),
  )) {
    changed.push(`api/${stale} (no such entry)`);
    if (!check) rmSync(join(REPORTS, stale));
  }
  if (changed.length === 0) {
    console.log(`api: the reports of ${entries.size} entries match the build`);
  } else if (check) {
    console.error(
      `\napi:check: the public surface differs from the checked-in report: ${changed.join(', ')}.\n` +
        'If the change is intended, run `npm run build && npm run api:report` and commit api/ ' +
        '(and say what changed in CHANGELOG.md).',
    );
    process.exitCode = 1;
  } else {
    console.log(`api: rewrote ${changed.join(', ')}`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
