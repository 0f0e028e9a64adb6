/**
 * The fault matrix: every collector fault × every stdout fault, each in a
 * child process wired as the README says. In every case the service serves
 * every request, its heap stays bounded, and on SIGTERM its close hook runs
 * and it exits within the shutdown budget plus one second.
 *
 * Children are plain JavaScript (see helpers/bundle.ts) so that a stdout
 * pipe reaches stacklight as a compiled service gets it (blocking).
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleFixture } from '../helpers/bundle.js';
import { makeTestCerts, type TestCerts } from '../helpers/certs.js';
import {
  startFaultyCollector,
  type CollectorMode,
  type FaultyCollector,
} from '../helpers/faulty-collector.js';
import { closedPort } from '../helpers/otlp-receiver.js';

const BUDGET_MS = 1500;
const REQUESTS = 100;

type CollectorFault =
  'refused' | 'never answers' | 'slow 5xx' | '429 Retry-After' | 'stalled body' | 'TLS wrong CA';
type StdoutFault = 'normal' | 'closed' | 'reader gone' | 'blocking pipe stalled';

const COLLECTOR_FAULTS: CollectorFault[] = [
  'refused',
  'never answers',
  'slow 5xx',
  '429 Retry-After',
  'stalled body',
  'TLS wrong CA',
];
const STDOUT_FAULTS: StdoutFault[] = ['normal', 'closed', 'reader gone', 'blocking pipe stalled'];

const MODES: Partial<Record<CollectorFault, CollectorMode>> = {
  'never answers': 'hang',
  'slow 5xx': 'slow-5xx',
  '429 Retry-After': 'throttle',
  'stalled body': 'stall-body',
};

let child = '';
let certs: TestCerts;
const collectors: FaultyCollector[] = [];
beforeAll(async () => {
  child = await bundleFixture('fault-child');
  certs = makeTestCerts();
});
afterAll(async () => {
  await Promise.all(collectors.map((c) => c.close()));
});

async function collectorFor(fault: CollectorFault): Promise<{ url: string; certificate?: string }> {
  if (fault === 'refused') return { url: `http://127.0.0.1:${await closedPort()}/v1/traces` };
  if (fault === 'TLS wrong CA') {
    const c = await startFaultyCollector({ tls: { key: certs.serverKey, cert: certs.serverCert } });
    collectors.push(c);
    return { url: c.url, certificate: certs.otherCaPath };
  }
  const c = await startFaultyCollector({ mode: MODES[fault], delayMs: 300 });
  collectors.push(c);
  return { url: c.url };
}

interface Outcome {
  served: { ok: number; requests: number; heapMb: number } | undefined;
  code: number | null | 'hung';
  exitMs: number;
  stderr: string;
}

/**
 * At most three children at a time: on a two-core machine more would make
 * the cases measure the scheduler rather than stacklight.
 */
let running = 0;
const queue: Array<() => void> = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= 3) await new Promise<void>((r) => queue.push(r));
  running += 1;
  try {
    return await fn();
  } finally {
    running -= 1;
    queue.shift()?.();
  }
}

function runCase(collector: CollectorFault, stdout: StdoutFault): Promise<Outcome> {
  return slot(() => runCaseNow(collector, stdout));
}

async function runCaseNow(collector: CollectorFault, stdout: StdoutFault): Promise<Outcome> {
  const { url, certificate } = await collectorFor(collector);
  const env = {
    ...process.env,
    COLLECTOR_URL: url,
    CERTIFICATE: certificate ?? '',
    BUDGET_MS: String(BUDGET_MS),
    REQUESTS: String(REQUESTS),
  };
  // `closed`: the shell closes fd 1 before node starts (node then opens /dev/null there).
  const proc =
    stdout === 'closed'
      ? spawn('/bin/sh', ['-c', 'exec "$0" "$1" 1>&-', process.execPath, child], {
          env,
          stdio: ['ignore', 'ignore', 'pipe'],
        })
      : spawn(process.execPath, [child], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (stdout === 'normal') proc.stdout!.resume();
  if (stdout === 'reader gone') proc.stdout!.destroy();
  if (stdout === 'blocking pipe stalled') proc.stdout!.pause();
  let stderr = '';
  let served: Outcome['served'];
  const exited = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  await new Promise<void>((resolve) => {
    const guard = setTimeout(resolve, 30_000); // bounds a hang only
    proc.stderr!.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = /served (\{.*\})\n/.exec(stderr);
      if (m !== null && served === undefined) {
        served = JSON.parse(m[1]!) as Outcome['served'];
        clearTimeout(guard);
        resolve();
      }
    });
    void exited.then(() => resolve());
  });
  const sent = Date.now();
  proc.kill('SIGTERM');
  const code = await Promise.race([
    exited,
    new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000)),
  ]);
  const exitMs = Date.now() - sent;
  if (code === 'hung') proc.kill('SIGKILL');
  proc.stdout?.destroy();
  return { served, code, exitMs, stderr };
}

const cases = COLLECTOR_FAULTS.flatMap((c) => STDOUT_FAULTS.map((s) => [c, s] as const));

describe.concurrent('fault matrix: collector × stdout', () => {
  it.each(cases)(
    'collector %s, stdout %s: serves every request, runs the close hook, exits within budget + 1 s',
    async (collector, stdout) => {
      const o = await runCase(collector, stdout);
      expect(o.served, o.stderr).toEqual({
        ok: REQUESTS,
        requests: REQUESTS,
        heapMb: expect.any(Number),
      });
      expect(o.served!.heapMb).toBeLessThan(100);
      expect(o.code, o.stderr).toBe(0);
      expect(o.stderr).toContain('close-ran');
      expect(o.exitMs).toBeLessThan(BUDGET_MS + 1000);
    },
    180_000,
  );
});
