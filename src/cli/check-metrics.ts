/**
 * `stacklight check-metrics <url|file|->`: reads a Prometheus text or
 * OpenMetrics exposition and reports naming violations, catalog conformance
 * (type, labels, buckets), series without `service`, and the families with
 * the most series. Exit 0 clean, 1 violations, 2 usage or fetch error.
 */
import { readFile } from 'node:fs/promises';
import { checkExposition, type CheckReport } from '../lint/exposition.js';

const USAGE = `usage: stacklight check-metrics <url|file|-> [options]

Reads a /metrics exposition (Prometheus text or OpenMetrics) from a URL, a file or
standard input (-) and checks it against stacklight's naming rules and catalog.

options:
  --format text|json   output format (default text)
  --openmetrics        ask a URL for OpenMetrics instead of Prometheus text
  --token TOKEN        send Authorization: Bearer TOKEN (default: $STACKLIGHT_METRICS_TOKEN)
  --top N              families listed in the cardinality report (default 10)
  --timeout MS         fetch timeout (default 10000)

exit status: 0 clean, 1 violations found, 2 usage or fetch error
`;

interface Args {
  source: string;
  format: 'text' | 'json';
  openmetrics: boolean;
  token: string | undefined;
  top: number;
  timeoutMs: number;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args | 'help' {
  let source: string | undefined;
  const args: Omit<Args, 'source'> = {
    format: 'text',
    openmetrics: false,
    token: process.env.STACKLIGHT_METRICS_TOKEN || undefined,
    top: 10,
    timeoutMs: 10_000,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '-h':
      case '--help':
        return 'help';
      case '--format': {
        const f = value(i++, a);
        if (f !== 'text' && f !== 'json')
          throw new UsageError(`--format must be text or json, got "${f}"`);
        args.format = f;
        break;
      }
      case '--openmetrics':
        args.openmetrics = true;
        break;
      case '--token':
        args.token = value(i++, a);
        break;
      case '--top':
      case '--timeout': {
        const raw = value(i++, a);
        const n = Number(raw);
        if (!Number.isInteger(n) || n <= 0)
          throw new UsageError(`${a} must be a positive integer, got "${raw}"`);
        if (a === '--top') args.top = n;
        else args.timeoutMs = n;
        break;
      }
      default:
        if (a.startsWith('--')) throw new UsageError(`unknown option ${a}`);
        if (source !== undefined)
          throw new UsageError(`one source only (got "${source}" and "${a}")`);
        source = a;
    }
  }
  if (source === undefined) throw new UsageError('give a URL, a file or - (standard input)');
  return { source, ...args };
}

async function readSource(args: Args): Promise<string> {
  if (args.source === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  if (/^https?:\/\//i.test(args.source)) {
    const headers: Record<string, string> = {
      accept: args.openmetrics
        ? 'application/openmetrics-text; version=1.0.0, text/plain; q=0.5'
        : 'text/plain; version=0.0.4',
    };
    if (args.token !== undefined) headers.authorization = `Bearer ${args.token}`;
    const res = await fetch(args.source, {
      headers,
      signal: AbortSignal.timeout(args.timeoutMs),
    });
    if (!res.ok) {
      throw new Error(`${args.source} answered ${res.status} ${res.statusText}`.trim());
    }
    return await res.text();
  }
  return await readFile(args.source, 'utf8');
}

function renderText(source: string, r: CheckReport): string {
  let out = `stacklight check-metrics: ${source} (${r.format}): ${r.families} families, ${r.series} series\n`;
  if (r.violations.length > 0) {
    out += `\nviolations (${r.violations.length}):\n`;
    for (const v of r.violations) out += `  ${v.family || '-'}  [${v.rule}] ${v.message}\n`;
  }
  if (r.exceptions.length > 0) {
    out += `\nknown exceptions (${r.exceptions.length}, not counted):\n`;
    for (const v of r.exceptions) out += `  ${v.family}  [${v.rule}] ${v.message}\n`;
  }
  out += `\ncardinality (families with the most series):\n`;
  for (const c of r.cardinality) out += `  ${String(c.series).padStart(7)}  ${c.family}\n`;
  out +=
    r.violations.length === 0 ? '\nok: no violations\n' : `\n${r.violations.length} violation(s)\n`;
  return out;
}

/** Runs the command; returns the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  let args: Args | 'help';
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`stacklight check-metrics: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  let text: string;
  try {
    text = await readSource(args);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `timed out after ${args.timeoutMs} ms` : e.message;
    process.stderr.write(
      `stacklight check-metrics: cannot read ${args.source}: ${why}${e.cause?.code ? ` (${e.cause.code})` : ''}\n`,
    );
    return 2;
  }
  const report = checkExposition(text, { top: args.top });
  process.stdout.write(
    args.format === 'json'
      ? `${JSON.stringify({ source: args.source, ok: report.violations.length === 0, ...report }, null, 2)}\n`
      : renderText(args.source, report),
  );
  return report.violations.length === 0 ? 0 : 1;
}
