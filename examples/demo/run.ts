/**
 * `npm run demo`: the product's stacks in miniature, instrumented with
 * stacklight. Starts AI Coach, Core, Workers and Edge as separate processes
 * on free ports (plus Redis and Prometheus when asked or needed), drives
 * users' traffic at them from a Web process, and shows a summary that
 * redraws in place, read from the services' /metrics. At the end it draws
 * one end-to-end trace as a waterfall. `--help` lists the options.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { configuredEndpoint, startCollector } from './runner/collector.js';
import {
  histogram,
  parseExposition,
  quantile,
  shareAtMost,
  since,
  total,
  type Sample,
} from './runner/exposition.js';
import {
  freePort,
  postgresAnswers,
  redisAnswers,
  sleep,
  startBroker,
  startPrometheus,
  startRedis,
  which,
} from './runner/infra.js';
import {
  fmtMs,
  frame,
  renderSummary,
  renderWaterfall,
  type ServiceRow,
  type SloRow,
  type Summary,
} from './runner/screen.js';
import { pickTrace } from './runner/trace.js';
import { parseDemoOptions, USAGE } from './runner/options.js';
import { QUEUES } from './shared.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = 'examples/demo';

let parsed: ReturnType<typeof parseDemoOptions>;
try {
  parsed = parseDemoOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed === 'help') {
  process.stdout.write(USAGE);
  process.exit(0);
}
const opts = parsed;
const tty = process.stdout.isTTY === true;
const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const logDir = opts.logs ?? join(tmpdir(), `stacklight-demo-${runId}`);
mkdirSync(logDir, { recursive: true });
const notes: string[] = [];

// --------------------------------------------------------------- infrastructure
const sharedRedis = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
let redisUrl: string | undefined = sharedRedis;
let ownRedis: ChildProcess | undefined;
const redisAnswered = await redisAnswers(sharedRedis);
if (!redisAnswered || opts.killRedisAfter !== undefined) {
  const binary = which('redis-server');
  if (binary !== undefined) {
    const redis = await startRedis(binary, join(logDir, 'redis.log'));
    ({ url: redisUrl, process: ownRedis } = redis);
    const why = redisAnswered
      ? '--kill-redis-after kills only a Redis of its own'
      : `nothing answers on ${sharedRedis}`;
    notes.push(`redis     local redis-server on ${redisUrl} (${why})`);
  } else {
    redisUrl = undefined;
    notes.push(
      `redis     nothing answers on ${sharedRedis} and no redis-server on PATH: running without the worker stack`,
    );
  }
} else notes.push(`redis     ${sharedRedis}`);
const prefix = `stacklight-demo-${runId}`;

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const postgres = await postgresAnswers(databaseUrl);
const outboxKind = postgres
  ? `PostgreSQL ${redact(databaseUrl)}, schema stacklight_demo_${runId}`
  : `memory (no PostgreSQL on ${redact(databaseUrl)})`;
notes.push(`outbox    ${outboxKind}`);

const forwardTo = configuredEndpoint(process.env);
const collector = await startCollector(forwardTo);
const broker = await startBroker(opts.broker429);
const faults = [
  opts.aiErrors > 0 && `AI errors ${opts.aiErrors * 100} %`,
  opts.aiLatencyMs !== 300 && `AI latency ${fmtMs(opts.aiLatencyMs)}`,
  opts.broker429 > 0 && `broker 429 ${opts.broker429 * 100} %`,
  opts.killRedisAfter !== undefined && `Redis killed after ${opts.killRedisAfter} s`,
].filter(Boolean);
if (faults.length > 0) notes.push(`faults    ${faults.join(' · ')}`);

// --------------------------------------------------------------- services
interface Service {
  name: string;
  file: string;
  metricsUrl?: string;
  env: Record<string, string>;
  child?: ChildProcess;
  exited?: number | null;
  history: { t: number; samples: Sample[] }[];
}

const baseEnv: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env))
  if (v !== undefined && !k.startsWith('OTEL_EXPORTER_OTLP')) baseEnv[k] = v;
Object.assign(baseEnv, {
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: collector.url,
  OTEL_BSP_SCHEDULE_DELAY: '500',
  STACKLIGHT_ENV: 'demo',
});
// Each service gets these from the demo, or not at all (no Redis, no PostgreSQL).
for (const k of ['STACKLIGHT_METRICS_PORT', 'REDIS_URL', 'BULLMQ_PREFIX', 'DATABASE_URL'])
  delete baseEnv[k];

const port = {
  ai: await freePort(),
  core: await freePort(),
  edge: await freePort(),
  workers: await freePort(),
};
const url = (p: number) => `http://127.0.0.1:${p}`;
const queueEnv: Record<string, string> = redisUrl
  ? { REDIS_URL: redisUrl, BULLMQ_PREFIX: prefix }
  : {};
const services: Service[] = [
  {
    name: 'edge',
    file: 'edge.ts',
    metricsUrl: `${url(port.edge)}/metrics`,
    env: { PORT: String(port.edge), CORE_URL: url(port.core) },
    history: [],
  },
  {
    name: 'core',
    file: 'core.ts',
    metricsUrl: `${url(port.core)}/metrics`,
    env: {
      PORT: String(port.core),
      AI_COACH_URL: url(port.ai),
      DEMO_RUN: runId,
      ...queueEnv,
      ...(postgres ? { DATABASE_URL: databaseUrl } : {}),
    },
    history: [],
  },
  ...(redisUrl
    ? [
        {
          name: 'workers',
          file: 'workers.ts',
          metricsUrl: `${url(port.workers)}/metrics`,
          env: {
            STACKLIGHT_METRICS_PORT: String(port.workers),
            CORE_URL: url(port.core),
            BROKER_URL: broker.url,
            AI_COACH_URL: url(port.ai),
            DEMO_USERS: String(opts.users),
            ...queueEnv,
          },
          history: [],
        },
      ]
    : []),
  {
    name: 'ai-coach',
    file: 'ai-coach.ts',
    metricsUrl: `${url(port.ai)}/metrics`,
    env: {
      PORT: String(port.ai),
      AI_LATENCY_MS: String(opts.aiLatencyMs),
      AI_ERROR_RATE: String(opts.aiErrors),
    },
    history: [],
  },
];
const web: Service = {
  name: 'web',
  file: 'web.ts',
  env: {
    EDGE_URL: url(port.edge),
    DEMO_USERS: String(opts.users),
    DEMO_WORKERS: redisUrl ? '1' : '0',
  },
  history: [],
};

let stopping = false;
/** Services that exited before the demo stopped them: the run then exits 1. */
const crashed: string[] = [];
function start(service: Service, ipc = false): void {
  const log = openSync(join(logDir, `${service.name}.log`), 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', `${HERE}/${service.file}`], {
    cwd: ROOT,
    env: { ...baseEnv, ...service.env },
    stdio: ipc ? ['ignore', log, log, 'ipc'] : ['ignore', log, log],
    detached: true, // its own process group: Ctrl-C reaches the runner, which stops them in order
  });
  service.child = child;
  child.on('exit', (code) => {
    service.exited = code;
    if (!stopping)
      crashed.push(
        `${service.name} exited (${code ?? 'signal'}); see ${join(logDir, `${service.name}.log`)}`,
      );
  });
}

async function scrape(service: Service): Promise<boolean> {
  if (service.metricsUrl === undefined) return false;
  try {
    const res = await fetch(service.metricsUrl, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return false;
    service.history.push({ t: Date.now(), samples: parseExposition(await res.text()) });
    if (service.history.length > 12) service.history.shift();
    return true;
  } catch {
    return false;
  }
}

async function waitUp(service: Service, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await scrape(service))) {
    if (service.exited !== undefined)
      throw new Error(
        `${service.name} exited during startup; see ${join(logDir, `${service.name}.log`)}`,
      );
    if (Date.now() > deadline)
      throw new Error(`${service.name} did not answer on ${service.metricsUrl}`);
    await sleep(250);
  }
}

const cleanup: (() => Promise<unknown>)[] = [];
process.on('exit', () => {
  for (const s of [...services, web])
    if (s.child && s.child.exitCode === null) s.child.kill('SIGKILL');
  ownRedis?.kill('SIGKILL');
});

if (tty)
  process.stdout.write(
    `stacklight demo: starting ${services.map((s) => s.name).join(', ')}… (logs in ${logDir})\n`,
  );
else process.stdout.write(`stacklight demo: logs in ${logDir}\n`);
try {
  for (const s of services) start(s);
  await Promise.all(services.map((s) => waitUp(s)));
} catch (error) {
  process.stderr.write(`stacklight demo: ${(error as Error).message}\n`);
  process.exit(1);
}

// Prometheus, when asked for.
let prometheus: { url: string; ruleFiles: string[] } | undefined;
if (opts.prometheus) {
  const binary = which('prometheus');
  if (binary === undefined)
    notes.push(
      'prometheus not installed (Debian: apt-get install prometheus): --prometheus ignored',
    );
  else {
    try {
      const p = await startPrometheus(
        binary,
        join(logDir, 'prometheus'),
        services.map((s) => ({ service: s.name, url: s.metricsUrl! })),
        opts.rules,
      );
      prometheus = p;
      cleanup.push(async () => p.process.kill('SIGTERM'));
      notes.push(`prometheus ${p.url} (${p.ruleFiles.length} rule files)`);
    } catch (error) {
      notes.push(`prometheus failed to start: ${(error as Error).message}`);
    }
  }
}

if (!tty) process.stdout.write(`${notes.join('\n')}\n`);

// --------------------------------------------------------------- traffic
const webStats = {
  actions: {} as Record<string, { ok: number; failed: number }>,
  reflectMs: [] as number[],
  bubbles: [] as { traceId: string; ms: number }[],
};
let webReady!: () => void;
const webStarted = new Promise<void>((resolve) => (webReady = resolve));
start(web, true);
web.child!.on(
  'message',
  (m: {
    type?: string;
    actions: typeof webStats.actions;
    reflectMs: number[];
    bubbles: typeof webStats.bubbles;
  }) => {
    if (m.type === 'web-ready') webReady();
    if (m.type !== 'web-stats') return;
    webStats.actions = m.actions;
    webStats.reflectMs.push(...m.reflectMs);
    webStats.bubbles.push(...m.bubbles);
  },
);
// The clock starts when the users do (loading a process can take seconds on a busy machine).
const webDeadline = setTimeout(() => {
  process.stderr.write(`stacklight demo: web did not start; see ${join(logDir, 'web.log')}\n`);
  process.exit(1);
}, 90_000);
await webStarted;
clearTimeout(webDeadline);
const trafficStart = Date.now();
if (opts.killRedisAfter !== undefined && ownRedis) {
  const redis = ownRedis;
  const timer = setTimeout(() => {
    redis.kill('SIGKILL');
    notes.push(`redis     killed at ${opts.killRedisAfter} s (--kill-redis-after)`);
  }, opts.killRedisAfter * 1000);
  cleanup.push(async () => clearTimeout(timer));
}

// --------------------------------------------------------------- the summary
let promStatus: string[] = [];
/** What Prometheus said last: target health by service, alert states by name. */
const promState = {
  targets: [] as { service: string; health: string }[],
  alerts: [] as { name: string; state: string }[],
};
async function pollPrometheus(): Promise<void> {
  if (!prometheus) return;
  const get = async <T>(path: string) =>
    (
      (await (
        await fetch(`${prometheus!.url}${path}`, { signal: AbortSignal.timeout(2000) })
      ).json()) as { data: T }
    ).data;
  try {
    const { activeTargets } = await get<{
      activeTargets: { labels: { job: string }; health: string }[];
    }>('/api/v1/targets');
    promState.targets = activeTargets.map((t) => ({ service: t.labels.job, health: t.health }));
    const listed = (health: string) =>
      promState.targets.filter((t) => t.health === health).map((t) => t.service);
    const up = listed('up');
    const down = listed('down');
    const unknown = listed('unknown');
    const lines = [
      `prometheus       ${prometheus.url} · targets ${up.length}/${activeTargets.length} up` +
        (down.length > 0 ? ` · down: ${down.join(', ')}` : '') +
        (unknown.length > 0 ? ` · not scraped yet: ${unknown.join(', ')}` : ''),
    ];
    if (prometheus.ruleFiles.length === 0) {
      lines.push('alerts           no rule files loaded (--rules <dir>)');
    } else {
      const { alerts } = await get<{ alerts: { labels: { alertname: string }; state: string }[] }>(
        '/api/v1/alerts',
      );
      promState.alerts = alerts.map((a) => ({ name: a.labels.alertname, state: a.state }));
      const named = (state: string) => [
        ...new Set(promState.alerts.filter((a) => a.state === state).map((a) => a.name)),
      ];
      lines.push(
        `alerts           firing: ${named('firing').join(', ') || 'none'} · pending: ${named('pending').join(', ') || 'none'} (${prometheus.ruleFiles.length} rule files)`,
      );
    }
    promStatus = lines;
  } catch (error) {
    promStatus = [`prometheus       not answering (${(error as Error).message})`];
  }
}

const latest = (s: Service) => s.history.at(-1)?.samples ?? [];
const windowStart = (s: Service) => s.history.find((h) => h.t >= Date.now() - 6000) ?? s.history[0];
const serviceByName = (name: string) => services.find((s) => s.name === name);

function serviceRow(s: Service, whole: boolean): ServiceRow {
  const now = s.history.at(-1);
  const then = windowStart(s);
  const isJobs = s.name === 'workers';
  const base = isJobs ? 'job_duration_ms' : 'http_request_duration_seconds';
  const scale = isJobs ? 1 : 1000;
  const h = (samples: Sample[] | undefined) => (samples ? histogram(samples, base) : undefined);
  const hNow = h(now?.samples);
  const window = whole || !then || then === now ? hNow : since(hNow!, h(then.samples));
  const p95 = window ? quantile(window, 0.95) : undefined;
  const all = hNow?.count ?? 0;
  const errors = isJobs
    ? total(latest(s), 'job_duration_ms_count', { status: 'failed' })
    : total(latest(s), 'http_requests_total', { code: /^5/ });
  const dt = now && then && now !== then ? (now.t - then.t) / 1000 : 0;
  return {
    name: s.name,
    unit: isJobs ? 'jobs' : 'req',
    up: whole
      ? !crashed.some((c) => c.startsWith(`${s.name} `))
      : s.exited === undefined && (now?.t ?? 0) > Date.now() - 5000,
    ratePerS: whole
      ? all / Math.max((Date.now() - trafficStart) / 1000, 1)
      : dt > 0 && hNow && then
        ? (hNow.count - histogram(then.samples, base).count) / dt
        : undefined,
    p95Ms: p95 === undefined ? undefined : p95 * scale,
    total: all,
    errors,
  };
}

function slo(
  objective: string,
  samples: Sample[],
  base: string,
  filter: Record<string, string>,
  q: number,
  threshold: number,
  scale = 1,
): SloRow {
  const h = histogram(samples, base, filter);
  const share = shareAtMost(h, threshold);
  const value = quantile(h, q);
  return {
    objective,
    measured:
      share === undefined
        ? 'no observations'
        : `p${q * 100} ${fmtMs(value! * scale)} · ${(share * 100).toFixed(1)} % ≤ ${fmtMs(threshold * scale)}`,
    holds: share === undefined ? undefined : share >= q,
  };
}

function summary(final: boolean): Summary {
  const elapsed = (Date.now() - trafficStart) / 1000;
  const clock = (s: number) =>
    `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  const edge = latest(serviceByName('edge')!);
  const core = latest(serviceByName('core')!);
  const workers = serviceByName('workers') ? latest(serviceByName('workers')!) : [];
  const lag = histogram(edge, 'event_delivery_lag_ms', { channel: 'ws' });
  const clicks = [...webStats.reflectMs].sort((a, b) => a - b);
  const at = (q: number) =>
    clicks.length === 0
      ? undefined
      : clicks[Math.min(clicks.length - 1, Math.floor(q * clicks.length))];
  const depth = Object.values(QUEUES).map(
    (q) =>
      `${q} ${total(core, 'queue_depth', { queue: q, state: /^(waiting|active|delayed|prioritized)$/ })}`,
  );
  const aiTotal = total(workers, 'ai_request_total') + total(core, 'ai_request_total');
  const aiErrors =
    total(workers, 'ai_request_errors_total') + total(core, 'ai_request_errors_total');
  const fiveXX = services
    .filter((s) => s.name !== 'workers')
    .map((s) => `${s.name} ${total(latest(s), 'http_requests_total', { code: /^5/ })}`);
  const actions = Object.entries(webStats.actions).map(
    ([a, c]) => `${a} ${c.ok}${c.failed ? ` (${c.failed} failed)` : ''}`,
  );
  const title = final
    ? `stacklight demo · finished after ${clock(elapsed)}`
    : `stacklight demo · ${clock(elapsed)}${opts.duration ? ` of ${clock(opts.duration)}` : ''} · Ctrl-C to stop`;
  return {
    header: [title, `logs      ${logDir}`, ...notes],
    window: final ? 'p95 (run)' : 'p95 (5 s)',
    services: services.map((s) => serviceRow(s, final)),
    details: [
      ['users', `${opts.users} · ${actions.join(' · ') || 'starting'}`],
      [
        'reflect delivery',
        `outbox→WS p50 ${fmtMs(quantile(lag, 0.5))} p95 ${fmtMs(quantile(lag, 0.95))} · click→bubble p50 ${fmtMs(at(0.5))} p95 ${fmtMs(at(0.95))} (${clicks.length} bubbles)`,
      ],
      ['queue depth', redisUrl ? depth.join(' · ') : 'no worker stack'],
      [
        'errors',
        `AI ${aiTotal ? ((100 * aiErrors) / aiTotal).toFixed(1) : '0.0'} % of ${aiTotal} · broker 429s ${total(workers, 'vendor_429_total')} · HTTP 5xx ${fiveXX.join(', ')}`,
      ],
      [
        'outbox',
        `${total(core, 'event_outbox_writes_total')} events · ${postgres ? 'PostgreSQL' : 'memory'}`,
      ],
      [
        'traces',
        `${collector.spans.length} spans → ${collector.url}${forwardTo ? ` → ${forwardTo}${collector.forwardErrors ? ` (${collector.forwardErrors} failed)` : ''}` : ''}`,
      ],
    ],
    slos: [
      slo(
        'login p95 ≤ 250 ms',
        edge,
        'http_request_duration_seconds',
        { route: '/v1/login' },
        0.95,
        0.25,
        1000,
      ),
      slo(
        'reflect delivery median ≤ 1.5 s',
        edge,
        'event_delivery_lag_ms',
        { channel: 'ws' },
        0.5,
        1500,
      ),
      slo(
        'reflect delivery p95 ≤ 3 s',
        edge,
        'event_delivery_lag_ms',
        { channel: 'ws' },
        0.95,
        3000,
      ),
      slo('import p95 ≤ 60 s', workers, 'job_duration_ms', { job: 'import' }, 0.95, 60_000),
      slo('simulation p95 ≤ 3 s (cold)', workers, 'job_duration_ms', { job: 'sim' }, 0.95, 3000),
      slo('simulation p95 ≤ 1 s (warm)', workers, 'job_duration_ms', { job: 'sim' }, 0.95, 1000),
    ],
    footer: [...promStatus, ...crashed.map((c) => `! ${c}`)],
  };
}

let height = 0;
function draw(final = false): void {
  const lines = renderSummary(summary(final), tty);
  if (tty) {
    process.stdout.write(frame(lines, height));
    height = lines.length;
  } else if (final) process.stdout.write(`${lines.join('\n')}\n`);
}

// --------------------------------------------------------------- run until stopped
let stop!: () => void;
const stopped = new Promise<void>((resolve) => (stop = resolve));
process.on('SIGINT', () => stop());
process.on('SIGTERM', () => stop());
if (opts.duration !== undefined) setTimeout(() => stop(), opts.duration * 1000);
if (tty) process.stdout.write('\x1b[?25l'); // hide the cursor while redrawing
let lastLine = 0;
const tick = setInterval(async () => {
  await Promise.all(services.map(scrape));
  await pollPrometheus();
  draw();
  if (!tty && Date.now() - lastLine > 5000) {
    lastLine = Date.now();
    const rows = services.map((s) => serviceRow(s, false)).map((r) => `${r.name} ${r.total}`);
    process.stdout.write(
      `[${Math.round((Date.now() - trafficStart) / 1000)} s] ${rows.join(' · ')} · ${collector.spans.length} spans\n`,
    );
  }
}, 1000);
await stopped;
clearInterval(tick);

// --------------------------------------------------------------- wind down
stopping = true;
const exit = (s: Service, ms: number) =>
  new Promise<void>((resolve) => {
    if (!s.child || s.exited !== undefined) return resolve();
    const timer = setTimeout(() => {
      s.child!.kill('SIGKILL');
      resolve();
    }, ms);
    s.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    s.child.kill('SIGTERM');
  });
await exit(web, 8000);
await sleep(1000); // reflections in flight reach the sockets
await Promise.all(services.map(scrape));
await pollPrometheus();
await Promise.all(services.map((s) => exit(s, 15_000))); // each flushes its spans on the way out
await sleep(300);

draw(true);
if (tty) process.stdout.write('\x1b[?25h');
const candidates = webStats.bubbles.map((b) => b.traceId).reverse();
const trace = pickTrace(collector.spans, candidates);
process.stdout.write('\n');
if (trace)
  process.stdout.write(
    `${renderWaterfall(trace, process.stdout.columns ?? 120, tty).join('\n')}\n`,
  );
else process.stdout.write('no trace arrived at the collector\n');

if (opts.json !== undefined) {
  const rows = services.map((s) => serviceRow(s, true));
  const s = summary(true);
  writeFileSync(
    opts.json,
    `${JSON.stringify(
      {
        services: rows.map((r) => ({
          name: r.name,
          requests: r.total,
          p95Ms: r.p95Ms ?? null,
          errors: r.errors,
        })),
        trace: trace && {
          traceId: trace.traceId,
          spans: trace.rows.map(({ span, linked }) => ({
            service: span.service,
            name: span.name,
            startMs: +(span.startMs - trace.startMs).toFixed(3),
            durationMs: +(span.endMs - span.startMs).toFixed(3),
            ...(linked ? { linked: true } : {}),
          })),
        },
        slos: s.slos.map((r) => ({
          objective: r.objective,
          holds: r.holds ?? null,
          measured: r.measured,
        })),
        reflect: { bubbles: webStats.reflectMs.length },
        redis: redisUrl ?? null,
        outbox: postgres ? 'postgres' : 'memory',
        prometheus: prometheus ? { url: prometheus.url, ...promState } : null,
        logs: logDir,
      },
      null,
      2,
    )}\n`,
  );
}

// Leave the shared Redis as we found it: the run's queues go.
if (redisUrl && !ownRedis) {
  const { hostname, port: p } = new URL(redisUrl);
  await Promise.all(
    Object.values(QUEUES).map(async (name) => {
      const q = new Queue(name, {
        connection: { host: hostname, port: Number(p || 6379), maxRetriesPerRequest: 1 },
        prefix,
      });
      await Promise.race([q.obliterate({ force: true }).catch(() => undefined), sleep(3000)]);
      await Promise.race([q.close(), sleep(1000)]);
    }),
  );
}
for (const fn of cleanup) await fn().catch(() => undefined);
ownRedis?.kill('SIGTERM');
broker.server.close();
await collector.close();
if (crashed.length > 0) process.stderr.write(`stacklight demo: ${crashed.join('; ')}\n`);
process.stdout.write(`logs: ${logDir}\n`);
process.exit(crashed.length > 0 ? 1 : 0);

/** A connection string without its password. */
function redact(connection: string): string {
  try {
    const u = new URL(connection);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return '(unparsable URL)';
  }
}
