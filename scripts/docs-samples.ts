/**
 * Type-checks every TypeScript sample of the docs against the built package.
 *
 * Each ```ts block of docs/**\/*.md becomes a module of a throwaway project in
 * .tmp/docs-samples/, whose `node_modules/stacklight` links to this package:
 * `stacklight` and its subpaths resolve through package.json `exports` to the
 * declarations in dist/, as in a service that installed the package. (The
 * packed tarball ships exactly dist/ and package.json; packing and installing it
 * again would only add time — the package-checks step of CI covers the tarball.)
 * The peers (fastify, express, bullmq, ws) resolve from this repository's
 * node_modules. Run `npm run build` first.
 *
 * Conventions for samples:
 * - a sample is a complete module: it imports what it uses and declares what
 *   it needs (top-level `await` is allowed);
 * - a sample that equals a `// #region` of a file under examples/ is checked
 *   as that whole file (the page shows a part of a program that compiles);
 * - a fragment that cannot stand alone is marked ```ts no-check and is not
 *   checked — keep those rare.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const OUT = join(ROOT, '.tmp', 'docs-samples');
/** Folders of docs/ that hold no hand-written pages. */
const SKIP = new Set(['.vitepress', 'api', 'node_modules']);

/** One fenced TypeScript block. */
export interface Sample {
  readonly page: string; // docs-relative
  readonly line: number; // 1-based line of the first code line
  readonly code: string;
  readonly check: boolean;
}

function* walk(dir: string, skip: ReadonlySet<string>): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skip.has(entry.name)) yield* walk(path, skip);
    } else yield path;
  }
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)(.*)$/;

/** The ```ts / ```typescript blocks of a markdown page. */
export function samplesOf(markdown: string, page: string): Sample[] {
  const lines = markdown.split('\n');
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, info, rest] = open;
    // The block ends at a fence of the same character, at least as long, with nothing after it.
    const close = new RegExp(`^\\s*${fence![0] === '`' ? '`' : '~'}{${fence!.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    // `ts{1,3}`, `ts:line-numbers`, `ts [title]` are the same language to VitePress.
    const lang = info!.replace(/[{:[].*$/, '');
    if (lang === 'ts' || lang === 'typescript') {
      const code = lines
        .slice(i + 1, end)
        .map((l) => l.slice(indent!.length))
        .join('\n');
      samples.push({ page, line: i + 2, code, check: !/\bno-check\b/.test(`${info}${rest}`) });
    }
    i = end;
  }
  return samples;
}

const OPEN = /^\s*\/\/ #region (\S+)\s*$/;
const CLOSE = /^\s*\/\/ #endregion\b/;

/** The regions of an example file as a page shows them: parts dedented, joined by a blank line. */
export function regionsOf(source: string): string[] {
  const parts = new Map<string, string[]>();
  let current: { name: string; lines: string[] } | undefined;
  for (const line of source.split('\n')) {
    const open = OPEN.exec(line);
    if (open !== null) current = { name: open[1]!, lines: [] };
    else if (CLOSE.test(line) && current !== undefined) {
      const lines = current.lines;
      while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
      while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
      const indent = Math.min(
        ...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length),
      );
      parts.set(current.name, [
        ...(parts.get(current.name) ?? []),
        lines.map((l) => l.slice(indent)).join('\n'),
      ]);
      current = undefined;
    } else current?.lines.push(line);
  }
  return [...parts.values()].map((p) => p.join('\n\n'));
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    isolatedModules: true,
    verbatimModuleSyntax: true,
    types: ['node'],
  },
  include: ['samples', 'examples'],
};

function main(): number {
  if (!existsSync(join(ROOT, 'dist', 'index.d.ts'))) {
    console.error('docs-samples: dist/ has no declarations; run `npm run build` first');
    return 2;
  }
  const samples = [...walk(DOCS, SKIP)]
    .filter((p) => p.endsWith('.md'))
    .flatMap((p) => samplesOf(readFileSync(p, 'utf8'), relative(DOCS, p)));
  const exampleFiles = [...walk(join(ROOT, 'examples'), new Set(['node_modules']))].filter((p) =>
    p.endsWith('.ts'),
  );
  const regionFile = new Map<string, string>();
  for (const file of exampleFiles)
    for (const region of regionsOf(readFileSync(file, 'utf8')))
      regionFile.set(region, relative(ROOT, file));

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(join(OUT, 'samples'), { recursive: true });
  mkdirSync(join(OUT, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(OUT, 'node_modules', 'stacklight'), 'dir');
  writeFileSync(
    join(OUT, 'package.json'),
    JSON.stringify({ name: 'docs-samples', private: true, type: 'module' }),
  );
  writeFileSync(join(OUT, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));

  const where = new Map<string, Sample>(); // temp file → sample
  const examples = new Set<string>();
  let skipped = 0;
  for (const [i, sample] of samples.entries()) {
    if (!sample.check) {
      skipped++;
      continue;
    }
    const example = regionFile.get(sample.code);
    if (example !== undefined) {
      examples.add(example);
      continue;
    }
    const name = `samples/${String(i).padStart(3, '0')}-${sample.page.replace(/[/.]/g, '_')}-L${sample.line}.ts`;
    // `export {}` makes every sample a module of its own (its names cannot collide).
    writeFileSync(join(OUT, name), `${sample.code}\nexport {};\n`);
    where.set(name, sample);
  }
  // Region samples: the whole folder of each example, so its relative imports resolve.
  for (const dir of new Set([...examples].map((e) => dirname(e)))) {
    for (const file of exampleFiles.filter((f) => dirname(relative(ROOT, f)) === dir)) {
      const target = join(OUT, relative(ROOT, file));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, readFileSync(file));
    }
  }

  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  let output = '';
  let failed = false;
  try {
    execFileSync(process.execPath, [tsc, '-p', join(OUT, 'tsconfig.json'), '--pretty', 'false'], {
      cwd: OUT,
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (err) {
    failed = true;
    const e = err as { stdout?: string; stderr?: string };
    output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  // Point each error at the page and line of the sample.
  const mapped = output.replace(
    /^(samples\/[^(]+\.ts)\((\d+),(\d+)\)/gm,
    (all, file: string, line: string, col: string) => {
      const s = where.get(file);
      return s ? `docs/${s.page}:${s.line + Number(line) - 1}:${col}` : all;
    },
  );
  const summary =
    `${where.size} samples as modules, ${examples.size} example files for region samples` +
    (examples.size ? ` (${[...examples].sort().join(', ')})` : '') +
    `, ${skipped} marked no-check`;
  if (failed) {
    console.error(mapped.trim());
    console.error(`docs-samples: type errors (${summary})`);
    return 1;
  }
  console.log(`docs-samples: ok — ${summary}`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
