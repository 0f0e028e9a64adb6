import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, type Telemetry } from '../../src/index.js';
import { createLogCapture, type LogCapture } from '../helpers/log-capture.js';

/**
 * A real Prometheus server scrapes stacklight's metrics port: the
 * OpenMetrics exposition (with exemplars) must be accepted as Prometheus
 * itself negotiates it, series must be queryable, and exemplars must carry
 * the trace id of the span that recorded them.
 */

/**
 * Starts Prometheus on port 0 and resolves with the port it listens on, as
 * its log line `msg="Listening on" address=127.0.0.1:PORT` says (a port
 * picked beforehand could be taken by another process meanwhile).
 */
function listeningPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const m = /msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(seen);
      if (m !== null) {
        child.stderr!.off('data', onData);
        child.stderr!.resume(); // keep draining its log
        resolve(Number(m[1]));
      }
    };
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`prometheus exited (${code}): ${seen}`)));
  });
}

async function until<T>(fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error('timed out waiting for Prometheus');
    await new Promise((r) => setTimeout(r, 250));
  }
}

let telemetry: Telemetry;
let logs: LogCapture;
let prometheus: ChildProcess;
let dir: string;
let api: string;
let traceId = '';

beforeAll(async () => {
  logs = createLogCapture();
  telemetry = init({
    service: 'edge',
    logging: { destination: logs.stream },
    tracing: { exporter: 'none' },
    metrics: { port: 0, host: '127.0.0.1' },
  });
  await telemetry.ready();
  telemetry.tracer.startActiveSpan('HTTP /login', (span) => {
    traceId = span.spanContext().traceId;
    telemetry.metrics.httpRequestDurationSeconds.observe(
      { route: '/login', method: 'POST', code: 200 },
      0.2,
    );
    telemetry.metrics.httpRequestsTotal.inc({ route: '/login', method: 'POST', code: 200 });
    span.end();
  });
  const target = `127.0.0.1:${telemetry.metricsAddress()!.port}`;
  dir = mkdtempSync(join(tmpdir(), 'stacklight-prom-'));
  writeFileSync(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: stacklight\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      '--web.listen-address=127.0.0.1:0',
      '--enable-feature=exemplar-storage',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  api = `http://127.0.0.1:${await listeningPort(prometheus)}`;
}, 30_000);

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await telemetry?.shutdown();
  if (dir) rmSync(dir, { recursive: true, force: true });
  logs?.lines(); // every line written, shutdown included, validates against the log schema
});

describe('scraped by a real Prometheus', () => {
  it('is up, with the catalog series and their service label queryable', async () => {
    const value = await until(async () => {
      const r = (await (
        await fetch(
          `${api}/api/v1/query?query=${encodeURIComponent('http_requests_total{service="edge",route="/login"}')}`,
        )
      ).json()) as {
        data: { result: { value: [number, string] }[] };
      };
      return r.data.result[0]?.value[1];
    }, 20_000);
    expect(value).toBe('1');
    const targets = (await (await fetch(`${api}/api/v1/targets`)).json()) as {
      data: { activeTargets: { health: string; lastError: string }[] };
    };
    expect(targets.data.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
  }, 30_000);

  it('stores the exemplar with the trace id of the observing span', async () => {
    const exemplars = await until(async () => {
      const q = encodeURIComponent('http_request_duration_seconds_bucket{service="edge"}');
      const now = Date.now() / 1000;
      const r = (await (
        await fetch(`${api}/api/v1/query_exemplars?query=${q}&start=${now - 300}&end=${now + 60}`)
      ).json()) as {
        data: { exemplars: { labels: Record<string, string>; value: string }[] }[];
      };
      const all = r.data.flatMap((s) => s.exemplars);
      return all.length > 0 ? all : undefined;
    }, 20_000);
    expect(exemplars[0]!.labels.trace_id).toBe(traceId);
    expect(Number(exemplars[0]!.value)).toBeCloseTo(0.2);
  }, 30_000);
});
