/**
 * The terminal: a summary that redraws in place (ANSI cursor moves, no
 * scrolling wall of logs) and, at the end, the waterfall of one trace.
 */
import type { PickedTrace } from './trace.js';

export interface ServiceRow {
  name: string;
  /** `req` for HTTP services, `jobs` for the workers. */
  unit: 'req' | 'jobs';
  up: boolean;
  ratePerS: number | undefined;
  p95Ms: number | undefined;
  total: number;
  errors: number;
}

export interface SloRow {
  objective: string;
  measured: string;
  holds: boolean | undefined;
}

export interface Summary {
  header: string[];
  /** Heading of the p95 column: the last seconds while running, the whole run at the end. */
  window: string;
  services: ServiceRow[];
  details: [label: string, text: string][];
  slos: SloRow[];
  footer: string[];
}

const ESC = '\x1b[';
export const ansi = {
  green: (s: string) => `${ESC}32m${s}${ESC}0m`,
  red: (s: string) => `${ESC}31m${s}${ESC}0m`,
  yellow: (s: string) => `${ESC}33m${s}${ESC}0m`,
  dim: (s: string) => `${ESC}2m${s}${ESC}0m`,
  bold: (s: string) => `${ESC}1m${s}${ESC}0m`,
};
const plain = { green: String, red: String, yellow: String, dim: String, bold: String };

export const fmtMs = (ms: number | undefined): string =>
  ms === undefined
    ? '—'
    : ms >= 10_000
      ? `${(ms / 1000).toFixed(0)} s`
      : ms >= 1000
        ? `${(ms / 1000).toFixed(2)} s`
        : `${ms.toFixed(ms >= 10 ? 0 : 1)} ms`;
const pct = (part: number, whole: number) =>
  whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)} %`;

/** The summary as lines (no trailing newline), coloured when `color`. */
export function renderSummary(s: Summary, color: boolean): string[] {
  const c = color ? ansi : plain;
  const lines = [...s.header, ''];
  lines.push(
    c.bold(
      `${'service'.padEnd(10)} ${'rate'.padStart(12)} ${s.window.padStart(10)} ${'total'.padStart(7)} ${'errors'.padStart(8)}`,
    ),
  );
  for (const r of s.services) {
    const rate = r.ratePerS === undefined ? '—' : `${r.ratePerS.toFixed(1)} ${r.unit}/s`;
    const errors = pct(r.errors, r.total);
    const name = r.up ? r.name : `${r.name} ✗`;
    lines.push(
      `${name.padEnd(10)} ${rate.padStart(12)} ${fmtMs(r.p95Ms).padStart(10)} ${String(r.total).padStart(7)} ${r.errors > 0 ? c.yellow(errors.padStart(8)) : errors.padStart(8)}`,
    );
  }
  lines.push('');
  for (const [label, text] of s.details) lines.push(`${label.padEnd(17)}${text}`);
  lines.push('', c.bold('SLOs (whole run, from /metrics)'));
  for (const slo of s.slos) {
    const verdict =
      slo.holds === undefined ? c.dim('no data') : slo.holds ? c.green('holds') : c.red('BROKEN');
    const mark = slo.holds === undefined ? '·' : slo.holds ? c.green('✓') : c.red('✗');
    lines.push(`  ${mark} ${slo.objective.padEnd(32)} ${slo.measured.padEnd(26)} ${verdict}`);
  }
  if (s.footer.length > 0) lines.push('', ...s.footer);
  return lines;
}

/** Redraws `lines` over the previous frame of `previousHeight` lines. */
export function frame(lines: readonly string[], previousHeight: number): string {
  const up = previousHeight > 0 ? `${ESC}${previousHeight}F` : '';
  return `${up}${lines.map((l) => `${l}${ESC}K`).join('\n')}\n${ESC}J`;
}

/** The waterfall: service, span (indented by depth), start offset, a bar and the duration. */
export function renderWaterfall(t: PickedTrace, width: number, color: boolean): string[] {
  const c = color ? ansi : plain;
  const total = Math.max(t.endMs - t.startMs, 0.001);
  const nameWidth = Math.min(
    42,
    Math.max(...t.rows.map((r) => r.depth * 2 + r.span.name.length + 2)),
  );
  const barWidth = Math.max(20, width - 10 - nameWidth - 9 - 10 - 4);
  const lines = [
    c.bold(
      `trace ${t.traceId} · ${fmtMs(total)} · ${t.services.length} services (${t.services.join(', ')})`,
    ),
    c.dim(
      `${'service'.padEnd(10)} ${'span'.padEnd(nameWidth)} ${'start'.padStart(9)} ${''.padEnd(barWidth)} duration`,
    ),
  ];
  for (const { span, depth, linked } of t.rows) {
    const start = span.startMs - t.startMs;
    const dur = Math.max(span.endMs - span.startMs, 0);
    const from = Math.min(barWidth - 1, Math.floor((start / total) * barWidth));
    const len = Math.max(1, Math.min(barWidth - from, Math.round((dur / total) * barWidth)));
    const bar =
      ' '.repeat(from) +
      (span.error ? c.red('█'.repeat(len)) : '█'.repeat(len)) +
      ' '.repeat(barWidth - from - len);
    const label = `${'  '.repeat(depth)}${linked ? '↪ ' : ''}${span.name}`;
    const name =
      label.length > nameWidth ? `${label.slice(0, nameWidth - 1)}…` : label.padEnd(nameWidth);
    lines.push(
      `${span.service.padEnd(10)} ${name} ${fmtMs(start).padStart(9)} ${bar} ${fmtMs(dur)}`,
    );
  }
  lines.push(c.dim('↪ linked, not a child: a send of the event the trace wrote to the outbox'));
  return lines;
}
