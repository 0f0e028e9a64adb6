/**
 * A small YAML writer for the rule files: block mappings and sequences,
 * strings single-quoted (double-quoted with JSON escapes when they hold a
 * control character) or as `|-` literal blocks when they span lines, and comment lines. Keys keep their insertion
 * order, so the same input gives the same bytes.
 */

/** A YAML value this writer emits. */
export type YamlValue = string | number | boolean | readonly YamlValue[] | YamlMap;

/** A mapping; `COMMENT` holds comment lines written above it in a sequence. */
export interface YamlMap {
  readonly [key: string]: YamlValue | undefined;
}

/** Key whose string value is written as `# …` lines above the mapping. */
export const COMMENT = '#';

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Serialises `value` (a mapping at the top) as a YAML document. */
export function toYaml(value: YamlMap, header?: string): string {
  const out: string[] = [];
  if (header !== undefined) for (const line of header.split('\n')) out.push(`# ${line}`.trimEnd());
  writeMap(value, 0, out);
  return out.join('\n') + '\n';
}

function pad(n: number): string {
  return ' '.repeat(n);
}

function key(k: string): string {
  return PLAIN_KEY.test(k) ? k : JSON.stringify(k);
}

function scalar(v: string | number | boolean): string {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`YAML: not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  // Single quotes read best for PromQL (no escaped double quotes); JSON
  // escapes (valid in YAML double quotes) for anything with control characters.
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f]/.test(v)) return `'${v.replace(/'/g, "''")}'`;
  return JSON.stringify(v);
}

function isMap(v: YamlValue): v is YamlMap {
  return typeof v === 'object' && !Array.isArray(v);
}

function writeMap(map: YamlMap, indent: number, out: string[], firstPrefix?: string): void {
  let first = true;
  for (const [k, v] of Object.entries(map)) {
    if (k === COMMENT || v === undefined) continue;
    const lead = first && firstPrefix !== undefined ? firstPrefix : pad(indent);
    first = false;
    writeEntry(lead + key(k) + ':', v, indent, out);
  }
  if (first) out.push((firstPrefix ?? pad(indent)) + '{}');
}

function writeEntry(prefix: string, v: YamlValue, indent: number, out: string[]): void {
  if (typeof v === 'string' && v.includes('\n')) {
    out.push(`${prefix} |-`);
    for (const line of v.split('\n')) out.push(line === '' ? '' : pad(indent + 2) + line);
  } else if (Array.isArray(v)) {
    if (v.length === 0) out.push(`${prefix} []`);
    else {
      out.push(prefix);
      writeSeq(v, indent, out);
    }
  } else if (isMap(v as YamlValue)) {
    const m = v as YamlMap;
    if (Object.keys(m).filter((k) => k !== COMMENT && m[k] !== undefined).length === 0)
      out.push(`${prefix} {}`);
    else {
      out.push(prefix);
      writeMap(m, indent + 2, out);
    }
  } else out.push(`${prefix} ${scalar(v as string | number | boolean)}`);
}

function writeSeq(seq: readonly YamlValue[], indent: number, out: string[]): void {
  for (const item of seq) {
    if (isMap(item)) {
      const comment = item[COMMENT];
      if (typeof comment === 'string')
        for (const line of comment.split('\n')) out.push(`${pad(indent)}# ${line}`.trimEnd());
      writeMap(item, indent + 2, out, `${pad(indent)}- `);
    } else if (Array.isArray(item)) {
      throw new TypeError('YAML: nested sequences are not used');
    } else if (typeof item === 'string' && item.includes('\n')) {
      throw new TypeError('YAML: multi-line strings in sequences are not used');
    } else out.push(`${pad(indent)}- ${scalar(item as string | number | boolean)}`);
  }
}
