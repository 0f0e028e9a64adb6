// Shared helpers of the consumer-project checks: a throw-away project in a
// temp directory, npm install from the registry, run a file, assert.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new consumer project in a temp directory; `files` are written into it. */
export function project(name, files = {}, type = 'module') {
  const dir = mkdtempSync(join(tmpdir(), `stacklight-${name}-`));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `consumer-${name}`, private: true, version: '1.2.3', type }),
  );
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return {
    dir,
    install(...specs) {
      execFileSync('npm', ['install', '--no-audit', '--no-fund', ...specs], {
        cwd: dir,
        stdio: ['ignore', 'inherit', 'inherit'],
      });
    },
    /** Runs `node file`; returns { code, stdout, stderr } (never throws). */
    node(file, env = {}, args = []) {
      const r = spawnSync(process.execPath, [...args, file], {
        cwd: dir,
        env: { ...process.env, NODE_ENV: 'production', ...env },
        encoding: 'utf8',
        timeout: 120_000,
      });
      return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Throws with `message` (and what was seen) unless `ok`. */
export function check(ok, message, seen) {
  if (!ok) {
    throw new Error(
      `${message}${seen === undefined ? '' : `\n--- seen:\n${String(seen).slice(0, 4000)}`}`,
    );
  }
  console.log(`  ok: ${message}`);
}

/** Runs a node script and requires exit code 0, printing its output on failure. */
export function mustRun(p, file, env = {}) {
  const r = p.node(file, env);
  check(r.code === 0, `${file} runs (exit 0)`, `${r.stdout}\n${r.stderr}`);
  return r;
}

/** Installed packages (directories with a package.json under node_modules) and their total bytes. */
export function installSize(dir) {
  let bytes = 0;
  const packages = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) bytes += statSync(p).size;
    }
  };
  const modules = join(dir, 'node_modules');
  const list = (nm) => {
    for (const entry of readdirSync(nm, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      if (entry.name.startsWith('@')) {
        for (const sub of readdirSync(join(nm, entry.name)))
          packages.push(join(nm, entry.name, sub));
      } else packages.push(join(nm, entry.name));
    }
  };
  list(modules);
  for (const p of [...packages]) {
    try {
      list(join(p, 'node_modules'));
    } catch {
      // no nested node_modules
    }
  }
  walk(modules);
  return { packages: packages.map((p) => p.slice(modules.length + 1)), bytes };
}

/** A local fake Sentry ingest: collects event items of the envelopes it receives. */
export const INGEST_SOURCE = `
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
export async function startIngest() {
  const events = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const lines = body.split('\\n').filter((l) => l !== '');
      for (let i = 1; i + 1 < lines.length; i += 2) {
        if (JSON.parse(lines[i]).type === 'event') events.push(JSON.parse(lines[i + 1]));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    dsn: 'http://publicKey@127.0.0.1:' + server.address().port + '/1',
    events,
    close: () => new Promise((r) => server.close(r)),
  };
}
`;
