/**
 * Generates the API reference (docs/api/, not checked in) with TypeDoc and
 * typedoc-plugin-markdown from the package's public entry points.
 *
 * The entry points are read from `exports` in package.json, so a new subpath
 * (`stacklight/testing`, `stacklight/eslint-plugin` …) is documented as soon as
 * it is exported: `./dist/NAME.js` is generated from `src/NAME.ts` or
 * `src/NAME/index.ts`. Each module is titled by its import specifier.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Application, Converter, ReflectionKind, type Context, type TypeDocOptions } from 'typedoc';
import type { PluginOptions } from 'typedoc-plugin-markdown';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT = `${ROOT}docs/api`;

interface ExportTarget {
  readonly import?: string | { readonly default?: string };
}

/** `{ specifier → source file }` for every JavaScript subpath export of package.json. */
export function apiEntryPoints(root = ROOT): Map<string, string> {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
    name: string;
    exports: Record<string, string | ExportTarget>;
  };
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const js =
      typeof target === 'string' ? target : (target.import as { default?: string })?.default;
    const m = js === undefined ? null : /^\.\/dist\/(.+)\.js$/.exec(js);
    if (m === null) continue; // package.json, log-schema.json
    const candidates = [`src/${m[1]}.ts`, `src/${m[1]}/index.ts`];
    const source = candidates.find((c) => existsSync(`${root}${c}`));
    if (source === undefined)
      throw new Error(
        `docs-api: export "${subpath}" has no source (looked for ${candidates.join(', ')})`,
      );
    entries.set(subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, source);
  }
  return entries;
}

async function main(): Promise<void> {
  const entries = apiEntryPoints();
  // TypeDoc names a module after its file, less `src/`, `.ts` and `/index`.
  const byModuleName = new Map(
    [...entries].map(([spec, src]) => [src.replace(/^src\/|(\/index)?\.ts$/g, ''), spec]),
  );
  rmSync(OUT, { recursive: true, force: true });
  const options: Partial<TypeDocOptions & PluginOptions> = {
    entryPoints: [...entries.values()],
    tsconfig: `${ROOT}tsconfig.json`,
    plugin: ['typedoc-plugin-markdown'],
    out: OUT,
    readme: 'none',
    name: 'API reference',
    entryFileName: 'index',
    hidePageHeader: true,
    hideBreadcrumbs: true,
    excludePrivate: true,
    excludeInternal: true,
    excludeExternals: true,
    disableSources: true,
    gitRevision: 'main',
    useCodeBlocks: true,
    parametersFormat: 'table',
    interfacePropertiesFormat: 'table',
    sanitizeComments: true,
    // A missing TSDoc comment is a finding of its own, not a docs build failure.
    validation: { notExported: true, invalidLink: true, notDocumented: false },
    treatWarningsAsErrors: false,
    logLevel: 'Warn',
  };
  const app = await Application.bootstrapWithPlugins(options as Partial<TypeDocOptions>);
  // Title each module by its import specifier (`stacklight/fastify`), not its file name.
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context: Context) => {
    for (const mod of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const spec = byModuleName.get(mod.name);
      if (spec !== undefined) mod.name = spec;
    }
  });
  const project = await app.convert();
  if (project === undefined)
    throw new Error('docs-api: TypeDoc could not convert the entry points');
  await app.generateOutputs(project);
  if (app.logger.hasErrors()) throw new Error('docs-api: TypeDoc reported errors');
  console.log(`docs-api: ${entries.size} entry points → docs/api/`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
