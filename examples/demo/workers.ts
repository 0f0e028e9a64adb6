/**
 * Workers (S4) on BullMQ: the four job kinds of the product.
 *
 * - `import.trades` pages the broker through a vendor client
 *   (`vendor_req_duration_ms{vendor,code}`, `vendor_429_total`), honours
 *   its 429s, reports progress as an outbox event and hands trades to scoring;
 * - `score.bias` asks the AI Coach (`indicators`, `bias.score`,
 *   `nlg.reflect` spans) and posts the reflection to Core's outbox;
 * - `simulate.simple` runs a small Monte Carlo (`sim.run`), warm when
 *   cached, and marks the run cold or warm (`markJobCache`): the simulation
 *   SLO's two objectives;
 * - `digest.weekly` aggregates the week (`digest.aggregate`), stores it in
 *   S3 (a vendor client: `vendor_req_duration_ms{vendor="s3"}`) and counts
 *   the digests due and delivered on time (`createDigestRecorder`).
 *
 * `instrumentProcessor` makes each run a `process <queue>` span continuing
 * the trace of the `enqueue` span in the job data, with `job_duration_ms
 * {queue,job,status}` and attempt/retry/failure counters; `instrumentWorker`
 * logs Redis errors and closes the worker on shutdown. A worker has no HTTP
 * server of its own: /metrics is served on STACKLIGHT_METRICS_PORT.
 *
 * Environment: REDIS_URL, BULLMQ_PREFIX, CORE_URL, BROKER_URL, S3_URL
 * (default BROKER_URL: the demo's mock serves both), AI_COACH_URL,
 * DEMO_USERS (digest recipients, default 6).
 */
import { Queue, Worker, type Job } from 'bullmq';
import {
  createDigestRecorder,
  createServiceClient,
  createVendorClient,
  init,
  SPAN_NAMES,
  withSpan,
} from 'stacklight';
import {
  instrumentProcessor,
  instrumentQueue,
  instrumentWorker,
  markJobCache,
  SPEC_JOB_LABELS,
} from 'stacklight/bullmq';
import {
  announcePort,
  createCoach,
  queueSettings,
  QUEUES,
  type DigestJob,
  type ImportJob,
  type ScoreJob,
  type SimJob,
  type Trade,
} from './shared.js';

const telemetry = init({ service: 'workers', shutdown: { handleSignals: true } });
const settings = queueSettings();
if (settings === undefined) throw new Error('workers: REDIS_URL is required');

const core = createServiceClient(telemetry, {
  service: 'core',
  baseUrl: process.env.CORE_URL,
  timeoutMs: 2000,
});
const broker = createVendorClient(telemetry, {
  vendor: 'binance',
  baseUrl: process.env.BROKER_URL,
  timeoutMs: 5000,
});
const s3 = createVendorClient(telemetry, {
  vendor: 's3',
  baseUrl: process.env.S3_URL ?? process.env.BROKER_URL,
  timeoutMs: 5000,
});
const coach = createCoach(telemetry);
const scoring = instrumentQueue(telemetry, new Queue<ScoreJob>(QUEUES.score, settings));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const postEvent = (type: string, payload: unknown) =>
  core.fetch('/internal/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type, payload }),
    urlTemplate: '/internal/events',
  });

/** One page of trades; a 429 waits for Retry-After and tries again, three times at most. */
async function fetchPage(symbol: string, page: number): Promise<Trade[]> {
  for (let attempt = 1; ; attempt++) {
    const res = await broker.fetch(`/api/v3/myTrades?symbol=${symbol}&page=${page}`, {
      urlTemplate: '/api/v3/myTrades', // the span name and label never carry the query
    });
    if (res.ok) return (await res.json()) as Trade[];
    if (res.status !== 429 || attempt === 3)
      throw new Error(`broker answered ${res.status} for page ${page}`);
    await sleep(Number(res.headers.get('retry-after') ?? 0.2) * 1000);
  }
}

async function importTrades(job: Job<ImportJob>): Promise<{ imported: number }> {
  let imported = 0;
  let last: Trade | undefined;
  for (let page = 1; page <= job.data.pages; page++) {
    const trades = await withSpan(SPAN_NAMES.importPage.name, { 'import.page': page }, () =>
      fetchPage(job.data.symbol, page),
    );
    imported += trades.length;
    last = trades.at(-1) ?? last;
    const pct = Math.round((page / job.data.pages) * 100);
    await job.updateProgress(pct);
    await postEvent('import.progress', { userId: job.data.userId, pct });
  }
  // The newest trade goes to scoring: its reflection reaches the user's screen.
  if (last)
    await scoring.add(
      'score.bias',
      { userId: job.data.userId, trade: last },
      { attempts: 3, removeOnComplete: 100 },
    );
  return { imported };
}

async function scoreBias(job: Job<ScoreJob>): Promise<{ tags: string[] }> {
  const { trade, userId } = job.data;
  const { tags, text } = await withSpan(SPAN_NAMES.scoreTrade.name, { 'trade.id': trade.id }, () =>
    coach(trade),
  );
  if (text === undefined) throw new Error('AI Coach gave no reflection'); // BullMQ retries
  const res = await postEvent('coach.reflection', { userId, tradeId: trade.id, tags, text });
  if (!res.ok) throw new Error(`core answered ${res.status} to the reflection`);
  return { tags };
}

/** Simulation results by symbol, fresh for 15 s (market data moves on). */
const warm = new Map<string, { p50: number; at: number }>();
async function simulate(job: Job<SimJob>): Promise<{ p50: number; cached: boolean }> {
  const { symbol, paths } = job.data;
  const cached = warm.get(symbol);
  const fresh = cached !== undefined && Date.now() - cached.at < 15_000;
  // The simulation SLO has a cold and a warm objective: job_completion_duration_seconds{cache}.
  markJobCache(fresh ? 'warm' : 'cold');
  if (fresh) return { p50: cached.p50, cached: true };
  const p50 = await withSpan(SPAN_NAMES.simRun.name, { 'sim.paths': paths }, async () => {
    const ends: number[] = [];
    for (let i = 0; i < paths; i++) {
      let price = 100;
      for (let step = 0; step < 250; step++) price *= 1 + (Math.random() - 0.5) * 0.04;
      ends.push(price);
      if (i % 500 === 0) await sleep(0); // let the event loop breathe
    }
    return ends.sort((a, b) => a - b)[Math.floor(ends.length / 2)]!;
  });
  warm.set(symbol, { p50, at: Date.now() });
  return { p50, cached: false };
}

/** PUTs an object to S3; a 503 SlowDown is retried once after a short pause, as S3 SDKs do. */
async function store(key: string, body: unknown): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const res = await s3.fetch(key, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      urlTemplate: '/digests/:key',
    });
    await res.arrayBuffer();
    if (res.ok) return;
    if (res.status !== 503 || attempt === 2) throw new Error(`s3 answered ${res.status} to ${key}`);
    await sleep(100);
  }
}

/** The weekly digest SLO: digests due, and each one's outcome (on time before Monday 09:00 UTC). */
const digests = createDigestRecorder(telemetry);
async function digest(job: Job<DigestJob>): Promise<{ week: string }> {
  const recipients = Number(process.env.DEMO_USERS ?? 6);
  await withSpan(SPAN_NAMES.digestAggregate.name, { 'digest.week': job.data.week }, () =>
    sleep(50 + Math.random() * 100),
  );
  telemetry.logger.info('weekly digest aggregated');
  await store(`/digests/${job.data.week}.json`, { week: job.data.week, recipients });
  digests.due(recipients);
  for (let i = 0; i < recipients; i++) digests.delivered(); // sending the e-mail stands in
  return { week: job.data.week };
}

const work = <T>(
  queue: string,
  processor: (job: Job<T>) => Promise<unknown>,
  concurrency: number,
) =>
  instrumentWorker(
    telemetry,
    // The spec's job labels (import.trades → import, …), which its SLO queries use.
    new Worker(queue, instrumentProcessor(telemetry, processor, { jobLabel: SPEC_JOB_LABELS }), {
      ...settings,
      concurrency,
    }),
    {
      closeOnShutdown: true,
    },
  );

work(QUEUES.import, importTrades, 2);
work(QUEUES.score, scoreBias, 4);
work(QUEUES.sim, simulate, 2);
work(QUEUES.digest, digest, 1);
telemetry.onShutdown('close', 'q_score', () => scoring.close());
telemetry.logger.info('workers ready');
await telemetry.ready(); // the metrics port listens
announcePort(telemetry.metricsAddress()?.port);
