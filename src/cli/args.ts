import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GeneratedFile, GenerateOptions } from '../slo/rules.js';

/** Parsed `--name value` / `--flag` arguments. */
export interface ParsedArgs {
  readonly values: Map<string, string>;
  readonly flags: Set<string>;
}

/** A usage error: printed to stderr, exit code 2. */
export class UsageError extends Error {}

/**
 * Parses `argv` against the allowed value options and flags; anything else
 * is a {@link UsageError} naming it.
 */
export function parseArgs(
  argv: readonly string[],
  valueNames: readonly string[],
  flagNames: readonly string[] = [],
): ParsedArgs {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (flagNames.includes(name) && eq < 0) flags.add(name);
    else if (valueNames.includes(name)) {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`${name} needs a value`);
      values.set(name, v);
    } else throw new UsageError(`unknown argument "${arg}"`);
  }
  return { values, flags };
}

/**
 * The generator options: `--config FILE` (a module whose default export is
 * the options object, e.g. `{ slos: [...specSlos(), mySlo] }`) with
 * `--docs-base URL` on top.
 */
export async function generatorOptions(args: ParsedArgs): Promise<GenerateOptions> {
  let options: GenerateOptions = {};
  const config = args.values.get('--config');
  if (config !== undefined) {
    const path = isAbsolute(config) ? config : resolve(process.cwd(), config);
    const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
    const given = mod.default;
    if (given === null || typeof given !== 'object')
      throw new UsageError(`--config ${config} must export default an options object`);
    options = given as GenerateOptions;
  }
  const docsBase = args.values.get('--docs-base');
  return docsBase === undefined ? options : { ...options, docsBase };
}

/** Writes generated files under `dir` (created), printing each path. */
export function writeFiles(dir: string, files: readonly GeneratedFile[]): void {
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const path = join(dir, f.path);
    writeFileSync(path, f.content);
    process.stdout.write(`wrote ${path}\n`);
  }
}

/** Runs a command body, turning usage and configuration errors into exit codes. */
export async function guarded(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stacklight ${name}: ${message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
