/**
 * Instructions per request by function, from the directory that
 * `OUT=dir bash bench/http/instructions.sh …` leaves; with two directories,
 * the difference (second minus first), largest first.
 *
 *   node --import tsx bench/http/functions.ts <dir> [other-dir] [--top 40]
 *
 * Native functions keep callgrind's names; code V8 generated (JavaScript,
 * builtins, regular expressions) is named from the `--perf-basic-prof` map.
 * Self cost only: a function's callees are counted under their own names.
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const TOP = topAt >= 0 ? Number(args[topAt + 1]) : 40;
const dirs = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));

interface JitSymbol {
  start: number;
  end: number;
  name: string;
}

function jitSymbols(dir: string): JitSymbol[] {
  const out: JitSymbol[] = [];
  for (const line of readFileSync(`${dir}/perf.map`, 'utf8').split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (second < 0) continue;
    const start = parseInt(line.slice(0, first), 16);
    out.push({
      start,
      end: start + parseInt(line.slice(first + 1, second), 16),
      name: line.slice(second + 1),
    });
  }
  return out.sort((a, b) => a.start - b.start);
}

function lookup(symbols: JitSymbol[], address: number): string | undefined {
  let lo = 0;
  let hi = symbols.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (symbols[mid]!.start <= address) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  const s = found >= 0 ? symbols[found]! : undefined;
  return s !== undefined && address < s.end ? s.name : undefined;
}

/** Self instructions per request, by function name. */
function perFunction(dir: string): Map<string, number> {
  const symbols = jitSymbols(dir);
  const requests = Number(readFileSync(`${dir}/requests`, 'utf8'));
  const cost = new Map<string, number>();
  let fn = '?';
  let skipNext = false;
  for (const line of readFileSync(`${dir}/cg.out.1`, 'utf8').split('\n')) {
    if (skipNext) {
      skipNext = false; // the inclusive cost of a call, counted in the callee
      continue;
    }
    if (line.startsWith('fn=')) fn = line.slice(3);
    else if (line.startsWith('calls=')) skipNext = true;
    else if (line.startsWith('0x')) {
      // positions: instr line; events: Ir
      const fields = line.split(' ');
      const ir = Number(fields[fields.length - 1]);
      if (!ir) continue;
      const unnamed = fn.startsWith('0x') || fn === '???';
      const name = unnamed ? (lookup(symbols, parseInt(fields[0]!, 16)) ?? `(unnamed) ${fn}`) : fn;
      cost.set(name, (cost.get(name) ?? 0) + ir);
    }
  }
  for (const [k, v] of cost) cost.set(k, v / requests);
  return cost;
}

const shorten = (name: string): string =>
  name
    .replace(/file:\/\/[^ ]*?\/(src|bench)\//, '$1/')
    .replace(/[^ ]*\/node_modules\//, '')
    .slice(0, 140);

const [a, b] = dirs.map(perFunction);
if (a === undefined) throw new Error('usage: functions.ts <dir> [other-dir] [--top N]');
const rows =
  b === undefined
    ? [...a]
    : [...new Set([...a.keys(), ...b.keys()])].map((k): [string, number] => [
        k,
        (b.get(k) ?? 0) - (a.get(k) ?? 0),
      ]);
rows.sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
const total = rows.reduce((n, [, v]) => n + v, 0);
console.log(
  `${b === undefined ? 'instructions per request' : 'difference per request'}: ${Math.round(total)}`,
);
for (const [name, v] of rows.slice(0, TOP))
  console.log(`${String(Math.round(v)).padStart(9)}  ${shorten(name)}`);
