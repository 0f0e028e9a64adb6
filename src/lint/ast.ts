/**
 * Small readers of ESTree nodes shared by the lint rules. The nodes come
 * from any parser (espree for JavaScript, typescript-eslint for TypeScript);
 * only the ESTree shape is relied on, TypeScript wrappers (`as const`,
 * `satisfies`, `!`) are looked through.
 */
import type { Rule } from 'eslint';

/** An ESTree node, loosely typed (the rules read a few fields by name). */
export type Node = Rule.Node | AnyNode;

/** The fields the rules read. */
export interface AnyNode {
  type: string;
  range?: [number, number];
  loc?: unknown;
  parent?: AnyNode;
  [key: string]: unknown;
}

/** Strips `x as const`, `x satisfies T`, `x!`, `<T>x` and parentheses. */
export function unwrap(node: AnyNode | null | undefined): AnyNode | undefined {
  let n = node ?? undefined;
  while (
    n !== undefined &&
    (n.type === 'TSAsExpression' ||
      n.type === 'TSSatisfiesExpression' ||
      n.type === 'TSNonNullExpression' ||
      n.type === 'TSTypeAssertion')
  ) {
    n = n.expression as AnyNode;
  }
  return n;
}

/** The value of a string literal or a template literal without `${}`; `undefined` otherwise. */
export function staticString(node: AnyNode | null | undefined): string | undefined {
  const n = unwrap(node);
  if (n === undefined) return undefined;
  if (n.type === 'Literal' && typeof n.value === 'string') return n.value;
  if (n.type === 'TemplateLiteral' && (n.expressions as unknown[]).length === 0) {
    const q = (n.quasis as { value: { cooked: string | null } }[])[0];
    return q?.value.cooked ?? undefined;
  }
  return undefined;
}

/** The name of a property key when it is static (`a`, `'a'`, `[\`a\`]`); `undefined` when computed. */
export function keyName(prop: AnyNode): string | undefined {
  const key = prop.key as AnyNode;
  if (!prop.computed && key.type === 'Identifier') return key.name as string;
  return staticString(key);
}

/** A `name: value` property of an object literal, by static key. */
export function findProperty(obj: AnyNode, name: string): AnyNode | undefined {
  for (const p of obj.properties as AnyNode[]) {
    if (p.type === 'Property' && keyName(p) === name) return p;
  }
  return undefined;
}

/** Whether an object literal has a spread (`...x`) or a computed key: not fully readable. */
export function hasOpaqueMembers(obj: AnyNode): boolean {
  return (obj.properties as AnyNode[]).some(
    (p) => p.type !== 'Property' || keyName(p) === undefined,
  );
}

/**
 * The elements of an array literal when every one is a static string;
 * `undefined` when the array is not a literal or holds anything else.
 */
export function staticStringArray(node: AnyNode | null | undefined): AnyNode[] | undefined {
  const n = unwrap(node);
  if (n === undefined || n.type !== 'ArrayExpression') return undefined;
  const out: AnyNode[] = [];
  for (const e of n.elements as (AnyNode | null)[]) {
    if (e === null || staticString(e) === undefined) return undefined;
    out.push(e);
  }
  return out;
}

/** The numbers of an array literal of numeric literals (`-1` included); `undefined` otherwise. */
export function staticNumberArray(node: AnyNode | null | undefined): number[] | undefined {
  const n = unwrap(node);
  if (n === undefined || n.type !== 'ArrayExpression') return undefined;
  const out: number[] = [];
  for (const raw of n.elements as (AnyNode | null)[]) {
    const e = unwrap(raw);
    if (e?.type === 'Literal' && typeof e.value === 'number') out.push(e.value);
    else if (
      e?.type === 'UnaryExpression' &&
      e.operator === '-' &&
      (e.argument as AnyNode).type === 'Literal' &&
      typeof (e.argument as AnyNode).value === 'number'
    )
      out.push(-((e.argument as AnyNode).value as number));
    else if (e?.type === 'Identifier' && (e.name === 'Infinity' || e.name === 'NaN'))
      out.push(e.name === 'NaN' ? NaN : Infinity);
    else return undefined;
  }
  return out;
}

/** The last name of a callee: `Counter` in `new client.Counter()`, `info` in `log.info()`. */
export function calleeName(callee: AnyNode): string | undefined {
  const c = unwrap(callee);
  if (c === undefined) return undefined;
  if (c.type === 'Identifier') return c.name as string;
  if (c.type === 'MemberExpression' && !c.computed && (c.property as AnyNode).type === 'Identifier')
    return (c.property as AnyNode).name as string;
  return undefined;
}

/**
 * A member chain as dotted text (`telemetry.metrics.httpRequestsTotal`),
 * with `this` kept; `undefined` when a link is computed or a call.
 */
export function memberPath(node: AnyNode | undefined): string | undefined {
  const n = unwrap(node);
  if (n === undefined) return undefined;
  if (n.type === 'Identifier') return n.name as string;
  if (n.type === 'ThisExpression') return 'this';
  if (n.type === 'MemberExpression' && !n.computed) {
    const head = memberPath(n.object as AnyNode);
    const prop = n.property as AnyNode;
    return head === undefined || prop.type !== 'Identifier'
      ? undefined
      : `${head}.${prop.name as string}`;
  }
  return undefined;
}

/** A string literal as source text, in the quote style of `like`. */
export function quoteLike(like: AnyNode, value: string): string {
  const n = unwrap(like);
  if (n?.type === 'TemplateLiteral') return `\`${value.replace(/[`\\$]/g, '\\$&')}\``;
  const raw = typeof n?.raw === 'string' ? n.raw : "'";
  const q = raw.startsWith('"') ? '"' : "'";
  return q + value.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), `\\${q}`) + q;
}
