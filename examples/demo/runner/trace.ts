/**
 * One end-to-end trace out of the collected spans: the spans of a trace,
 * plus the sends linked to it (`SSE send`, `WS send` are linked to the
 * `outbox.append` that wrote the event, not children of it), in tree order.
 */
import type { CollectedSpan } from './collector.js';

export interface TraceRow {
  span: CollectedSpan;
  depth: number;
  /** Reached through a link, not a parent. */
  linked: boolean;
}

export interface PickedTrace {
  traceId: string;
  startMs: number;
  endMs: number;
  rows: TraceRow[];
  services: string[];
}

/** The trace of `traceId` with its linked sends, in tree order, or undefined when no span arrived. */
export function assembleTrace(
  spans: readonly CollectedSpan[],
  traceId: string,
): PickedTrace | undefined {
  const own = spans.filter((s) => s.traceId === traceId);
  if (own.length === 0) return undefined;
  const ids = new Set(own.map((s) => s.spanId));
  // A send linked into the trace, and the spans under it in its own trace.
  const linked = spans.filter(
    (s) => s.traceId !== traceId && s.links.some((l) => l.traceId === traceId && ids.has(l.spanId)),
  );
  const children = new Map<string, { span: CollectedSpan; linked: boolean }[]>();
  const add = (parent: string, span: CollectedSpan, isLink: boolean) => {
    const list = children.get(parent) ?? [];
    list.push({ span, linked: isLink });
    children.set(parent, list);
  };
  const roots: CollectedSpan[] = [];
  for (const s of own) {
    if (ids.has(s.parentSpanId)) add(s.parentSpanId, s, false);
    else roots.push(s);
  }
  for (const s of linked) add(s.links.find((l) => ids.has(l.spanId))!.spanId, s, true);

  const rows: TraceRow[] = [];
  const visit = (span: CollectedSpan, depth: number, isLink: boolean) => {
    rows.push({ span, depth, linked: isLink });
    const kids = (children.get(span.spanId) ?? []).sort((a, b) => a.span.startMs - b.span.startMs);
    for (const kid of kids) visit(kid.span, depth + 1, kid.linked);
  };
  for (const root of roots.sort((a, b) => a.startMs - b.startMs)) visit(root, 0, false);
  const all = rows.map((r) => r.span);
  return {
    traceId,
    startMs: Math.min(...all.map((s) => s.startMs)),
    endMs: Math.max(...all.map((s) => s.endMs)),
    rows,
    services: [...new Set(all.map((s) => s.service))],
  };
}

/**
 * The best end-to-end trace among `candidates` (newest first: trace ids of
 * reflections the users saw arrive): the one reaching the most services and
 * ending in a `WS send`; else the trace in all spans with the most services.
 */
export function pickTrace(
  spans: readonly CollectedSpan[],
  candidates: readonly string[],
): PickedTrace | undefined {
  const score = (t: PickedTrace) =>
    t.services.length * 10 +
    (t.rows.some((r) => r.span.name === 'WS send') ? 5 : 0) +
    (t.rows.some((r) => r.span.name.startsWith('process ')) ? 2 : 0);
  let best: PickedTrace | undefined;
  for (const id of candidates) {
    const t = assembleTrace(spans, id);
    if (t !== undefined && (best === undefined || score(t) > score(best))) best = t;
  }
  if (best !== undefined) return best;
  const byTrace = new Map<string, Set<string>>();
  for (const s of spans)
    byTrace.set(s.traceId, (byTrace.get(s.traceId) ?? new Set()).add(s.service));
  const [id] = [...byTrace].sort((a, b) => b[1].size - a[1].size)[0] ?? [];
  return id === undefined ? undefined : assembleTrace(spans, id);
}
