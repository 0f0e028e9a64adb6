// A service with its own Sentry.init and a local fake ingest: stacklight
// joins that client (no second init), events are scrubbed, and an uncaught
// exception is captured and flushed before the process exits with code 1.
import { check, INGEST_SOURCE, mustRun, project } from './lib.mjs';

export default function sentryApp(tarball) {
  const p = project('sentry-app', {
    'ingest.mjs': INGEST_SOURCE,
    'app.mjs': `
import * as Sentry from '@sentry/node';
import { init } from 'stacklight';
import { startIngest } from './ingest.mjs';
const ingest = await startIngest();
const warnings = [];
const warn = console.warn;
console.warn = (...a) => { warnings.push(a.join(' ')); warn(...a); };
const client = Sentry.init({ dsn: ingest.dsn });
const t = init({ service: 'sentry-app', tracing: { exporter: 'none' }, sentry: { dsn: ingest.dsn } });
t.captureException(new Error('import failed for jane.doe@example.com with Bearer abcdefghijklmnopqrstuv'));
await t.ready();
if (Sentry.getClient() !== client) throw new Error('stacklight replaced the service Sentry client');
await Sentry.flush(10000);
const text = JSON.stringify(ingest.events);
if (ingest.events.length !== 1) throw new Error('expected 1 event, got ' + ingest.events.length);
if (text.includes('jane.doe@example.com') || text.includes('abcdefghijklmnopqrstuv')) throw new Error('event not scrubbed: ' + text);
if (ingest.events[0].tags?.service !== 'sentry-app') throw new Error('no service tag');
if (warnings.some((w) => /more than once/i.test(w))) throw new Error('Sentry initialised twice');
await t.shutdown();
if (Sentry.getClient() !== client) throw new Error('client lost at shutdown');
await ingest.close();
console.log('joined');
`,
    'crash-child.mjs': `
import * as Sentry from '@sentry/node';
import { init } from 'stacklight';
Sentry.init({ dsn: process.argv[2] });
init({ service: 'sentry-crash', tracing: { exporter: 'none' }, shutdown: { timeoutMs: 20000 } });
setTimeout(() => { throw new Error('loop died for jane.doe@example.com'); }, 50);
setInterval(() => undefined, 1000);
`,
    'crash.mjs': `
import { spawnSync } from 'node:child_process';
import { startIngest } from './ingest.mjs';
const ingest = await startIngest();
const child = await new Promise((resolve) => {
  import('node:child_process').then(({ spawn }) => {
    const c = spawn(process.execPath, ['crash-child.mjs', ingest.dsn], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => resolve({ code, out, err }));
  });
});
await ingest.close();
const fatal = child.out.split('\\n').filter((l) => l.includes('"level":"fatal"'));
const events = ingest.events.filter((e) => e.level === 'fatal');
const leaked = (child.out + child.err + JSON.stringify(ingest.events)).includes('jane.doe@example.com');
console.log(JSON.stringify({ code: child.code, fatal: fatal.length, events: events.length, leaked }));
if (child.code !== 1 || fatal.length !== 1 || events.length !== 1 || leaked) {
  console.log(child.out, child.err);
  process.exit(1);
}
`,
  });
  try {
    p.install(tarball, '@sentry/node@^11');
    check(
      mustRun(p, 'app.mjs').stdout.includes('joined'),
      "stacklight joins the service's Sentry client; events scrubbed and tagged",
    );
    const crash = mustRun(p, 'crash.mjs');
    check(
      crash.stdout.includes('"code":1'),
      'an uncaught exception: one fatal line, captured and flushed, exit code 1',
      crash.stdout,
    );
  } finally {
    p.remove();
  }
}
