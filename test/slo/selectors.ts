/** The vector selectors a PromQL expression reads (`name{matchers}` or a bare name). */
export function selectorsOf(expr: string): string[] {
  // Grouping clauses name labels, not series.
  const stripped = expr.replace(
    /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g,
    '',
  );
  const out = new Set<string>();
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g;
  const keywords = new Set(['and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan']);
  for (const m of stripped.matchAll(re)) {
    const name = m[1]!;
    const after = stripped.slice(m.index! + m[0].length).trimStart();
    if (after.startsWith('(') || keywords.has(name)) continue;
    // Inside a range like [5m] or a number: not a name.
    const before = stripped.slice(0, m.index!);
    if (/[0-9.]$/.test(before) || /\[[^\]]*$/.test(before)) continue;
    out.add(`${name}${m[2] ?? ''}`);
  }
  return [...out];
}

/** Series only postgres_exporter or redis_exporter expose. */
export const externalSelectors = /^(pg_|redis_)/;
