/**
 * The demo's screen, read from a real pseudo-terminal (tmux): the summary
 * redraws in place — one title on the whole scrollback, not a frame per
 * second — and Ctrl-C ends the run with the SLO table and a waterfall of
 * one trace across at least four services.
 *
 * This run also takes the path of a machine with neither Redis nor the
 * redis-server binary (REDIS_URL where nothing listens, an empty PATH): the
 * demo says in one line that it runs without the worker stack.
 *
 * tmux is required (.ci/run installs it): without it the test fails, naming it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closedPort, demoCommand, demoEnv, ROOT } from './helpers.js';

const SOCKET = `stacklight-demo-test-${process.pid}`;
const SESSION = 'demo';

function tmux(...args: string[]): string {
  const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
  if (r.error)
    throw new Error(`tmux is required for this test (apt-get install -y tmux): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the screen until `predicate` holds; bounded so that a hang fails instead of blocking. */
async function screenUntil(
  predicate: (screen: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = tmux('capture-pane', '-p', '-J', '-t', SESSION, '-S', '-', '-E', '-');
    if (predicate(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`screen never matched; last screen:\n${screen}`);
    await sleep(500);
  }
}

afterAll(() => {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
});

describe('npm run demo in a terminal', { timeout: 180_000 }, () => {
  it('redraws one summary in place and ends with the SLOs and a waterfall', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stacklight-demo-tty-'));
    const emptyPath = mkdtempSync(join(tmpdir(), 'stacklight-demo-path-'));
    const env = demoEnv({
      REDIS_URL: `redis://127.0.0.1:${await closedPort()}`,
      PATH: emptyPath,
      TERM: 'xterm-256color',
    });
    const assignments = Object.entries(env)
      .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      .map(([k, v]) => `${k}=${quote(v ?? '')}`)
      .join(' ');
    const demo = [process.execPath, ...demoCommand(), '--logs', join(dir, 'logs')]
      .map(quote)
      .join(' ');
    // env -i: exactly the environment above. The shell around it keeps the pane open once the demo
    // exits, and outlives the Ctrl-C (a trap, unlike an ignored signal, is not inherited).
    const command = `trap true INT; cd ${quote(ROOT)} && env -i ${assignments} ${demo}; echo DEMO-EXIT=$?; sleep 600`;
    tmux('new-session', '-d', '-s', SESSION, '-x', '150', '-y', '80', command);

    // Live: wait until users have seen a few bubbles, then press Ctrl-C.
    const running = await screenUntil(
      (s) => Number(/\((\d+) bubbles\)/.exec(s)?.[1] ?? 0) >= 3,
      150_000,
    );
    expect(running).toMatch(/stacklight demo · \d:\d\d · Ctrl-C to stop/);
    expect(running).toContain('running without the worker stack');
    expect(running).toMatch(/^edge +\d+\.\d req\/s/m);
    tmux('send-keys', '-t', SESSION, 'C-c');

    const screen = await screenUntil((s) => s.includes('DEMO-EXIT='), 150_000);
    expect(screen).toContain('DEMO-EXIT=0');
    // In place: the final frame overwrote the live one; the scrollback holds one title.
    expect(screen.match(/stacklight demo · /g)).toHaveLength(1);
    expect(screen).toMatch(/stacklight demo · finished after \d:\d\d/);
    expect(screen).not.toContain('Ctrl-C to stop');
    for (const service of ['edge', 'core', 'ai-coach'])
      expect(screen).toMatch(new RegExp(`^${service} +\\d+\\.\\d req/s`, 'm'));
    expect(screen).toMatch(/^reflect delivery outbox→WS p50 /m);
    expect(screen).toMatch(/^ {2}[✓✗] login p95 ≤ 250 ms +p95 .* (holds|BROKEN) *$/m);
    expect(screen).toMatch(/^ {2}[✓✗] reflect delivery median ≤ 1\.5 s +p50 .* (holds|BROKEN) *$/m);

    // The waterfall: a trace line, then one row per span with a bar.
    const title = /^trace ([0-9a-f]{32}) · .+ · (\d+) services \(([^)]*)\) *$/m.exec(screen);
    expect(title, 'waterfall title').not.toBeNull();
    expect(Number(title![2])).toBeGreaterThanOrEqual(4);
    const rows = screen
      .slice(title!.index)
      .split('\n')
      .filter((l) => l.includes('█'));
    const services = new Set(rows.map((l) => l.split(' ')[0]));
    expect([...services].sort()).toEqual(
      expect.arrayContaining(['ai-coach', 'core', 'edge', 'web']),
    );
    expect(rows.some((l) => /nlg\.reflect/.test(l))).toBe(true);
    expect(rows.some((l) => /↪ WS send/.test(l))).toBe(true);
  });
});
