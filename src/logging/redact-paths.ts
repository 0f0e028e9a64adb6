import { FIELD_RULES } from './field-rules.js';

/** First segment of a pino redact path: `a` of `a.b`, `a-b` of `["a-b"].c`. */
function firstSegment(path: string): string {
  if (path.startsWith('[')) {
    const end = path.indexOf(']');
    const inner = end === -1 ? path.slice(1) : path.slice(1, end);
    return inner.replace(/^(["'`])(.*)\1$/, '$2');
  }
  const m = /^[^.[]+/.exec(path);
  return m === null ? path : m[0];
}

/**
 * Adapts pino `redact` paths to the line layout. The logger moves keys that
 * are not schema fields under `extra`, so a path that names such a key
 * (`req.headers.x`) would never match the written line; it is rewritten to
 * `extra.req.headers.x`. Paths that start with a schema field (`extra.…`,
 * `error.…`, `route`) are kept, and a leading wildcard (`*.password`) is kept
 * and also applied under `extra` (`extra.*.password`).
 *
 * @example
 * expandRedactPaths(['card.number', 'error.extra.token', '*.pin'])
 * // → ['extra.card.number', 'error.extra.token', '*.pin', 'extra.*.pin']
 */
export function expandRedactPaths(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    const first = firstSegment(path);
    if (first === '*') {
      out.push(path, `extra.${path}`);
    } else if (FIELD_RULES.has(first)) {
      out.push(path);
    } else {
      out.push(path.startsWith('[') ? `extra${path}` : `extra.${path}`);
    }
  }
  return out;
}
