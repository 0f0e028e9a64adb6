import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkFieldDeclarations } from '../logging/declared-fields.js';
import { buildLogJsonSchema } from '../logging/json-schema.js';
import { guarded, parseArgs, UsageError } from './args.js';

/** Usage of `stacklight log-schema`. */
export const USAGE =
  'usage: stacklight log-schema [--config FILE] [--fields NAME=TYPE,…]\n' +
  "  Prints the JSON Schema (draft 2020-12) of one log line, with the service's own fields:\n" +
  '  --config FILE  a module whose default export is the options given to init()\n' +
  '                 (its logging.fields are read; nothing is started)\n' +
  '  --fields LIST  fields as name=type pairs, e.g. tenant=string,cached=boolean\n' +
  '                 (added to those of --config)\n';

/** `--fields tenant=string,cached=boolean` as a declaration object. */
function parseFieldList(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new UsageError(`--fields takes name=type pairs, got "${part.trim()}"`);
    out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The `logging.fields` of the default export of the module at `file`. */
async function fieldsOfConfig(file: string): Promise<unknown> {
  const path = isAbsolute(file) ? file : resolve(process.cwd(), file);
  const mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
  const options = mod.default;
  if (options === null || typeof options !== 'object') {
    throw new UsageError(`--config ${file} must export default the options object given to init()`);
  }
  const logging = (options as { logging?: unknown }).logging;
  if (logging === undefined) return {};
  if (logging === null || typeof logging !== 'object') {
    throw new UsageError(`--config ${file}: logging must be an object`);
  }
  return (logging as { fields?: unknown }).fields ?? {};
}

/**
 * `stacklight log-schema`: the line schema that `init()` with these fields
 * writes, checked by the same rules (an invalid declaration is the error
 * `init()` would throw, exit 1).
 */
export async function run(argv: readonly string[]): Promise<number> {
  return guarded('log-schema', async () => {
    const args = parseArgs(argv, ['--config', '--fields'], ['--help']);
    if (args.flags.has('--help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    const config = args.values.get('--config');
    const list = args.values.get('--fields');
    const fromConfig = config === undefined ? {} : await fieldsOfConfig(config);
    const given =
      list === undefined
        ? fromConfig
        : { ...(fromConfig as Record<string, unknown>), ...parseFieldList(list) };
    const fields = checkFieldDeclarations(given);
    process.stdout.write(`${JSON.stringify(buildLogJsonSchema(fields), null, 2)}\n`);
    return 0;
  });
}
