/**
 * vitest global setup: what the suite needs from the machine, so that `npm test` works on a
 * fresh clone. Redis on 127.0.0.1:6379 is started (`redis-server`, no persistence) when none
 * answers, and stopped at the end; the Debian packages the suite runs (`prometheus` for
 * promtool and the Prometheus server, `tmux`, `redis-server`) are installed with apt-get when
 * missing and this runs as root, and whatever is still missing is named in one line.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createConnection } from 'node:net';
import { delimiter, join } from 'node:path';

const REDIS_PORT = 6379;

/** Binary → the Debian package that brings it. */
const PACKAGES: Record<string, string> = {
  promtool: 'prometheus',
  prometheus: 'prometheus',
  tmux: 'tmux',
  'redis-server': 'redis-server',
};

function onPath(bin: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, bin), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.end('PING\r\n');
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function missingPackages(): string[] {
  return [...new Set(Object.keys(PACKAGES).filter((b) => !onPath(b)))].map((b) => PACKAGES[b]!);
}

function tryInstall(packages: readonly string[]): void {
  if (packages.length === 0 || process.getuid?.() !== 0 || !onPath('apt-get')) return;
  try {
    const opts = { stdio: 'ignore', timeout: 300_000 } as const;
    execFileSync('apt-get', ['update', '-qq'], opts);
    execFileSync('apt-get', ['install', '-y', '-qq', ...new Set(packages)], {
      ...opts,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    // Named below as still missing.
  }
}

export default async function setup(): Promise<() => Promise<void>> {
  tryInstall(missingPackages());
  const missing = [...new Set(missingPackages())];
  if (missing.length > 0) {
    process.stderr.write(
      `stacklight tests: missing system packages ${missing.join(', ')} ` +
        `(apt-get install ${missing.join(' ')}); the tests that need them will fail\n`,
    );
  }

  let redis: ChildProcess | undefined;
  if (!(await answers(REDIS_PORT)) && onPath('redis-server')) {
    redis = spawn(
      'redis-server',
      ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100 && !(await answers(REDIS_PORT)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return async () => {
    if (redis !== undefined && redis.exitCode === null) {
      redis.kill('SIGTERM');
      await new Promise((r) => redis!.once('exit', r));
    }
  };
}
