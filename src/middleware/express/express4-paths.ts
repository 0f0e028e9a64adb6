/**
 * Mount path templates of Express 4. Express 4 (path-to-regexp 0.1) keeps
 * only the compiled regexp of a mount path, so the template is recovered by
 * reversing the source it generates:
 * `^\/orgs(?:\/([^/]+?))\/?(?=\/|$)` → `/orgs/:orgId`. An array of paths is
 * compiled into one regexp whose top-level alternatives are the paths; it is
 * split back. Anything else (a user RegExp, custom parameter patterns) is
 * not reversed and is rendered as the regexp itself by the caller.
 */

/** `p` without trailing slashes. */
export function trimSlash(p: string): string {
  let end = p.length;
  while (end > 0 && p.charCodeAt(end - 1) === 47) end--;
  return end === p.length ? p : p.slice(0, end);
}

const EXPRESS4_PARAM = '(?:\\/([^/]+?))';
const EXPRESS4_SUFFIXES = ['\\/?(?=\\/|$)', '(?=\\/|$)', '\\/?(?:\\/|$)', '(?:\\/|$)'];
const REGEX_SYNTAX = '()[]{}+?*|^$.';

/**
 * Reverses the source path-to-regexp 0.1 (Express 4) builds for a mount
 * path: `^\/orgs(?:\/([^/]+?))\/?(?=\/|$)` → `/orgs/:orgId`. Returns
 * `undefined` for anything it does not recognise (a user RegExp, custom
 * parameter patterns), which is then rendered as the regexp itself.
 */
export function reverseExpress4Mount(
  source: string,
  keys: ReadonlyArray<{ name?: unknown }> | undefined,
): string | undefined {
  if (!source.startsWith('^')) return undefined;
  let s = source.slice(1);
  const suffix = EXPRESS4_SUFFIXES.find((x) => s.endsWith(x));
  if (suffix === undefined) return undefined;
  s = s.slice(0, s.length - suffix.length);
  let out = '';
  let k = 0;
  for (let i = 0; i < s.length;) {
    if (s.startsWith(EXPRESS4_PARAM, i)) {
      const name = keys?.[k++]?.name;
      if (typeof name !== 'string') return undefined;
      i += EXPRESS4_PARAM.length;
      const optional = s[i] === '?';
      if (optional) i++;
      out += '/:' + name + (optional ? '?' : '');
      continue;
    }
    if (s.startsWith('(.*)', i)) {
      k++;
      out += '*';
      i += 4;
      continue;
    }
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
      continue;
    }
    if (REGEX_SYNTAX.includes(c)) return undefined;
    out += c;
    i++;
  }
  return trimSlash(out);
}

/** Splits a regexp source at its top-level `|` (outside groups and classes). */
function topLevelAlternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
    } else if (c === '(') {
      depth++;
    } else if (c === ')') {
      depth--;
    } else if (c === '|' && depth === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

export interface Alternative {
  re: RegExp;
  template: string;
}
const alternatives = new WeakMap<object, Alternative[] | null>();

/**
 * Express 4 compiles an array of mount paths into one regexp whose
 * alternatives are the compiled paths (keys in order): split it back, one
 * regexp and template per path. `null` when it is not such a regexp.
 */
export function express4Alternatives(
  layer: { keys?: ReadonlyArray<{ name?: unknown }> },
  re: RegExp,
): Alternative[] | null {
  let alts = alternatives.get(layer);
  if (alts !== undefined) return alts;
  alts = null;
  const parts = topLevelAlternatives(re.source);
  if (parts.length > 1) {
    const list: Alternative[] = [];
    let k = 0;
    for (const part of parts) {
      const groups = part.split(EXPRESS4_PARAM).length - 1 + (part.split('(.*)').length - 1);
      const template = reverseExpress4Mount(part, layer.keys?.slice(k, k + groups));
      k += groups;
      if (template === undefined) break;
      list.push({ re: new RegExp(part, re.flags), template });
    }
    if (list.length === parts.length) alts = list;
  }
  alternatives.set(layer, alts);
  return alts;
}
