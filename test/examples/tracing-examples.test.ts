/**
 * The tracing examples (examples/tracing/) are the code samples of
 * docs/tracing.md, and they run:
 *
 * - every `ts` sample of the page names its file and equals one `#region`
 *   of it (the parts of a region joined by a blank line), and every region
 *   is on the page — so the page cannot drift from code that compiles
 *   (`tsc` covers examples/);
 * - `ws-delivery.ts --once` runs in a child process, end to end: outbox →
 *   JSON row → WebSocket send to a real client → metrics exposition;
 * - the examples without side effects at import (the custom queue carrier,
 *   the AI Coach calls) run in-process against fakes and local servers.
 *
 * The service files (edge.ts, core.ts, worker-hop.ts, plain-http.ts) listen
 * or connect to Redis when loaded, so they are only compiled, never imported.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { SpanKind } from '@opentelemetry/api';
import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceParent, withSpan, type Telemetry } from '../../src/index.js';
import { initForTest } from '../clients/fixtures.js';
import { expectValidLogLine, type LogCapture } from '../helpers/log-capture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLES = 'examples/tracing';
const PAGE = 'docs/tracing.md';

const read = (path: string): string => readFileSync(ROOT + path, 'utf8');

// ---------------------------------------------------------------------------
// regions and samples

const OPEN = /^\s*\/\/ #region (\S+)\s*$/;
const CLOSE = /^\s*\/\/ #endregion\b/;

/** The regions of a file: name → parts, each dedented and trimmed of blank lines. */
function regionsOf(source: string, file: string): Map<string, string[]> {
  const regions = new Map<string, string[]>();
  let current: { name: string; lines: string[] } | undefined;
  for (const [i, line] of source.split('\n').entries()) {
    const open = OPEN.exec(line);
    if (open !== null) {
      if (current !== undefined)
        throw new Error(`${file}:${i + 1}: region "${open[1]}" opens inside "${current.name}"`);
      current = { name: open[1]!, lines: [] };
    } else if (CLOSE.test(line)) {
      if (current === undefined) throw new Error(`${file}:${i + 1}: #endregion without #region`);
      const parts = regions.get(current.name) ?? [];
      parts.push(dedent(current.lines));
      regions.set(current.name, parts);
      current = undefined;
    } else {
      current?.lines.push(line);
    }
  }
  if (current !== undefined) throw new Error(`${file}: region "${current.name}" is not closed`);
  return regions;
}

function dedent(lines: string[]): string {
  while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  const indent = Math.min(
    ...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length),
  );
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** A `ts` code block of the page, and the example file its paragraph names. */
interface Sample {
  line: number;
  file: string | undefined;
  code: string;
}

function samplesOf(page: string): Sample[] {
  const lines = page.split('\n');
  const samples: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    // The paragraph right above the block names the file.
    let p = i - 1;
    while (p >= 0 && lines[p]!.trim() === '') p--;
    let paragraph = '';
    while (p >= 0 && lines[p]!.trim() !== '') paragraph = lines[p--] + '\n' + paragraph;
    const links = [
      ...paragraph.matchAll(/\[`(examples\/tracing\/[\w.-]+\.ts)`\]\(\.\.\/([^)]+)\)/g),
    ];
    const link = links.at(-1);
    samples.push({
      line: i + 1,
      file: link !== undefined && link[1] === link[2] ? link[1] : undefined,
      code: lines.slice(i + 1, end).join('\n'),
    });
    i = end;
  }
  return samples;
}

const exampleFiles = readdirSync(ROOT + EXAMPLES)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => `${EXAMPLES}/${f}`);
const regions = new Map(exampleFiles.map((f) => [f, regionsOf(read(f), f)]));
const samples = samplesOf(read(PAGE));

describe('docs/tracing.md samples are the examples', () => {
  it('has samples, and examples with regions', () => {
    expect(samples.length).toBeGreaterThanOrEqual(10);
    expect([...regions.values()].reduce((n, r) => n + r.size, 0)).toBeGreaterThanOrEqual(10);
  });

  it.each(samples.map((s) => [`${PAGE}:${s.line}`, s] as const))(
    'the sample at %s names its example file and equals one of its regions',
    (_where, sample) => {
      expect(
        sample.file,
        'the paragraph above names [`examples/tracing/x.ts`](../examples/tracing/x.ts)',
      ).toBeDefined();
      const fileRegions = regions.get(sample.file!);
      expect(fileRegions, `${sample.file} exists`).toBeDefined();
      const texts = [...fileRegions!.values()].map((parts) => parts.join('\n\n'));
      if (texts.includes(sample.code)) return;
      // Show the diff against the region that shares most lines with the sample.
      const shared = (t: string) => t.split('\n').filter((l) => sample.code.includes(l)).length;
      const closest = texts.sort((a, b) => shared(b) - shared(a))[0];
      expect(sample.code).toBe(closest);
    },
  );

  it('shows every region of every example', () => {
    const shown = new Set(samples.map((s) => `${s.file}\n${s.code}`));
    const missing: string[] = [];
    for (const [file, fileRegions] of regions) {
      for (const [name, parts] of fileRegions) {
        if (!shown.has(`${file}\n${parts.join('\n\n')}`)) missing.push(`${file}#${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// ws-delivery.ts --once, in a child process

/** Prometheus text samples of `name` whose labels include `labels`. */
function samplesNamed(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => [k, v]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) out.push(Number(m[3]));
  }
  return out;
}

function runExample(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    // It must exit on its own: a handle left open would hang here.
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('examples/tracing/ws-delivery.ts --once', () => {
  it('delivers one outbox event to a WebSocket client, records the lag and exits cleanly', async () => {
    const { code, stdout, stderr } = await runExample([`${EXAMPLES}/ws-delivery.ts`, '--once'], {
      OTEL_TRACES_EXPORTER: 'none',
    });
    expect(code, `stderr:\n${stderr}\nstdout:\n${stdout}`).toBe(0);

    const logs = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.length).toBeGreaterThan(0);
    logs.forEach(expectValidLogLine);
    const written = logs.find((l) => l.msg === 'outbox row written');
    const received = logs.find((l) => l.msg === 'browser received the event');
    expect(written).toMatchObject({ service: 'edge', eventId: '1' });
    expect(received).toBeDefined();

    // The client got the envelope as stored, carrying outbox.append's context.
    const envelope = JSON.parse((received!.extra as { message: string }).message) as {
      id: string;
      outboxTs: number;
      _trace: { traceparent: string };
    };
    expect(envelope).toMatchObject({
      id: '1',
      type: 'coach.reflection',
      payload: { userId: 'u_42', tradeId: 't_42' },
    });
    expect(parseTraceParent(envelope._trace.traceparent)).toMatchObject({
      traceId: written!.traceId,
      spanId: written!.spanId,
    });

    // The exposition it printed: one lag sample, no socket left, no drop.
    expect(samplesNamed(stdout, 'event_outbox_writes_total', { type: 'coach.reflection' })).toEqual(
      [1],
    );
    expect(samplesNamed(stdout, 'event_delivery_lag_ms_count', { channel: 'ws' })).toEqual([1]);
    const [lag] = samplesNamed(stdout, 'event_delivery_lag_ms_sum', { channel: 'ws' });
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThanOrEqual(Date.parse(received!.ts as string) - envelope.outboxTs);
    expect(samplesNamed(stdout, 'ws_active_connections')).toEqual([0]);
    expect(samplesNamed(stdout, 'ws_dropped_connections_total')).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// examples without side effects, in-process

describe('examples that run in-process', () => {
  let telemetry: Telemetry;
  let spans: InMemorySpanExporter;
  let logs: LogCapture;
  beforeAll(() => {
    ({ telemetry, spans, logs } = initForTest('workers'));
  });
  afterEach(() => {
    spans.reset();
    logs.lines(); // every line so far validates against the log schema
  });
  afterAll(async () => {
    await telemetry.shutdown();
    logs.lines(); // including the lines written by shutdown()
  });

  const named = (name: string): ReadableSpan => {
    const found = spans.getFinishedSpans().filter((s) => s.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };

  it('custom-queue.ts: the consumer span continues the trace of the enqueue span', async () => {
    const { consumeImport, enqueueImport } = await import('../../examples/tracing/custom-queue.js');
    const list: string[] = [];
    const redis = {
      lpush: async (_key: string, value: string) => list.unshift(value),
      brpop: async (key: string): Promise<[string, string] | null> => {
        const value = list.pop();
        return value === undefined ? null : [key, value];
      },
    };
    await withSpan('HTTP /internal/imports', {}, () =>
      enqueueImport(redis, { userId: 'u_42', broker: 'binance', symbol: 'BTCUSDT' }),
    );
    expect(JSON.parse(list[0]!)).toMatchObject({
      userId: 'u_42',
      _trace: { traceparent: expect.any(String) },
    });
    let ran: unknown;
    // Consumed elsewhere, in another trace: the job's context wins.
    await withSpan('poll', {}, () => consumeImport(redis, async (job) => void (ran = job)));
    expect(ran).toMatchObject({ symbol: 'BTCUSDT' });

    const enqueue = named('enqueue q_import');
    const consumer = named('process q_import');
    expect(enqueue.kind).toBe(SpanKind.PRODUCER);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(enqueue.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(enqueue.spanContext().spanId);
    expect(enqueue.parentSpanContext?.spanId).toBe(
      named('HTTP /internal/imports').spanContext().spanId,
    );
  });

  describe('ai-coach.ts against a local AI Coach', () => {
    let server: Server;
    let reflectStatus = 200;
    const seen: { path: string; traceparent: string | undefined }[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push({ path: req.url ?? '', traceparent: req.headers.traceparent as string });
        req.resume();
        const body: Record<string, unknown> = {
          '/v1/indicators': { rsi: 71.2 },
          '/v1/bias/score': { tags: ['FOMO'] },
          '/v1/nlg/reflect': { text: 'You chased the breakout.' },
        };
        const status = req.url === '/v1/nlg/reflect' ? reflectStatus : 200;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(status === 200 ? body[req.url ?? ''] : { error: 'busy' }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      process.env.AI_COACH_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      delete process.env.AI_COACH_URL;
      await new Promise((resolve) => server.close(resolve));
    });

    const trade = { id: 't_42', symbol: 'BTCUSDT', side: 'buy', price: 1, qty: 1 } as const;

    it('makes the three calls as children of score.trade, each carrying its own span as traceparent', async () => {
      const { createCoach } = await import('../../examples/tracing/ai-coach.js');
      const coach = createCoach(telemetry);
      seen.length = 0;
      const result = await withSpan('score.trade', {}, () => coach(trade));
      expect(result).toEqual({ tags: ['FOMO'], text: 'You chased the breakout.' });

      const score = named('score.trade');
      const calls = ['indicators', 'bias.score', 'nlg.reflect'].map(named);
      expect(seen.map((s) => s.path)).toEqual([
        '/v1/indicators',
        '/v1/bias/score',
        '/v1/nlg/reflect',
      ]);
      calls.forEach((call, i) => {
        expect(call.kind).toBe(SpanKind.CLIENT);
        expect(call.parentSpanContext?.spanId).toBe(score.spanContext().spanId);
        expect(parseTraceParent(seen[i]!.traceparent)?.spanId).toBe(call.spanContext().spanId);
      });
      expect(telemetry.metrics.aiRequestTotal.read({ endpoint: '/v1/nlg/reflect' })).toBe(1);
    });

    it('falls back to the tags when the reflection fails, and counts the error', async () => {
      const { createCoach } = await import('../../examples/tracing/ai-coach.js');
      reflectStatus = 503;
      try {
        expect(await createCoach(telemetry)(trade)).toEqual({ tags: ['FOMO'], text: undefined });
      } finally {
        reflectStatus = 200;
      }
      expect(
        telemetry.metrics.aiRequestErrorsTotal.read({
          endpoint: '/v1/nlg/reflect',
          reason: 'http_5xx',
        }),
      ).toBe(1);
    });
  });
});
