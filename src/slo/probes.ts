import { randomBytes } from 'node:crypto';
import { Gauge } from 'prom-client';
import type { Telemetry } from '../types.js';
import { checkOption, ms } from '../config/kinds.js';
import { ConfigError } from '../errors.js';

/** What a probe function gets for one run. */
export interface ProbeContext {
  /** `fetch` that sends this run's `traceparent` and the baggage `synthetic=true`. */
  readonly fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  /** W3C headers of this run, for clients other than `fetch` (WebSocket, BullMQ). */
  readonly headers: Readonly<{ traceparent: string; baggage: string }>;
  /** The run's trace id (32 hex digits), logged with its result. */
  readonly traceId: string;
  /** Aborted when the run exceeds its timeout. */
  readonly signal: AbortSignal;
}

/** One synthetic probe. */
export interface ProbeDefinition {
  /** The `probe` label: lower-case letters, digits, `_` and `-`. */
  readonly name: string;
  /** The check: resolves when the journey worked, throws (or rejects) when not. */
  readonly run: (ctx: ProbeContext) => Promise<unknown>;
  /** A run slower than this fails, even if it completed, in ms. */
  readonly thresholdMs: number;
  /**
   * A run is abandoned (and fails) after this long, in ms.
   * @default max(2 × thresholdMs, 1000)
   */
  readonly timeoutMs?: number;
}

/** The result of one probe run. */
export interface ProbeResult {
  readonly probe: string;
  readonly success: boolean;
  readonly durationMs: number;
  readonly traceId: string;
  /** Why it failed: the error message, `timeout`, or `slower than N ms`. */
  readonly reason?: string;
}

/** Options of {@link createProbeRunner}. */
export interface ProbeRunnerOptions {
  readonly probes: readonly ProbeDefinition[];
  /**
   * Interval between two rounds of every probe, in ms.
   * @default 30000
   */
  readonly intervalMs?: number;
}

/** A running set of probes. */
export interface ProbeRunner {
  /** Runs every probe once (concurrently) and records and logs the results. */
  runOnce(): Promise<ProbeResult[]>;
  /** Runs a round now and then every `intervalMs`; rounds never overlap. */
  start(): void;
  /** Stops the interval and waits for a round in progress. */
  stop(): Promise<void>;
}

const NAME = /^[a-z][a-z0-9_-]*$/;

/** The baggage every probe request carries. */
export const SYNTHETIC_BAGGAGE = 'synthetic=true';

/**
 * Runs synthetic probes: each a function that must resolve within its
 * threshold. Exports `probe_success{probe}` (1 or 0) and
 * `probe_duration_seconds{probe}` in `telemetry.registry`, and logs one line
 * per result (`info` when it passed, `error` with its trace id when not).
 * Probe requests carry `baggage: synthetic=true`, which stacklight's HTTP
 * middleware counts apart from the SLI metrics.
 *
 * @example
 * const telemetry = init({ service: 'prober', metrics: { port: 9465 } });
 * const runner = createProbeRunner(telemetry, { probes: [{
 *   name: 'login', thresholdMs: 250,
 *   run: async ({ fetch }) => { const r = await fetch(`${edge}/login`, { method: 'POST' });
 *     if (r.status !== 200) throw new Error(`status ${r.status}`); },
 * }] });
 * runner.start();
 */
export function createProbeRunner(
  telemetry: Pick<Telemetry, 'registry' | 'logger'>,
  options: ProbeRunnerOptions,
): ProbeRunner {
  const intervalMs = options.intervalMs ?? 30_000;
  checkOption('probes.intervalMs', intervalMs, ms(100));
  if (!Array.isArray(options.probes) || options.probes.length === 0)
    throw new ConfigError('probes', options.probes, 'a non-empty array of probes');
  const seen = new Set<string>();
  for (const p of options.probes) {
    if (typeof p?.name !== 'string' || !NAME.test(p.name))
      throw new ConfigError('probe.name', p?.name, 'lower-case letters, digits, "_" and "-"');
    if (seen.has(p.name)) throw new ConfigError('probe.name', p.name, 'unique probe names');
    seen.add(p.name);
    if (typeof p.run !== 'function')
      throw new ConfigError(`probe "${p.name}".run`, p.run, 'an async function');
    if (typeof p.thresholdMs !== 'number' || !(p.thresholdMs > 0))
      throw new ConfigError(`probe "${p.name}".thresholdMs`, p.thresholdMs, 'a number > 0');
    if (p.timeoutMs !== undefined && !(p.timeoutMs > 0))
      throw new ConfigError(`probe "${p.name}".timeoutMs`, p.timeoutMs, 'a number > 0');
  }
  const registers = [telemetry.registry];
  const success =
    (telemetry.registry.getSingleMetric('probe_success') as Gauge<'probe'> | undefined) ??
    new Gauge({
      name: 'probe_success',
      help: 'Whether the last run of a synthetic probe passed (1) or failed (0).',
      labelNames: ['probe'],
      registers,
    });
  const duration =
    (telemetry.registry.getSingleMetric('probe_duration_seconds') as Gauge<'probe'> | undefined) ??
    new Gauge({
      name: 'probe_duration_seconds',
      help: 'Duration of the last run of a synthetic probe, in seconds.',
      labelNames: ['probe'],
      registers,
    });

  const runProbe = async (p: ProbeDefinition): Promise<ProbeResult> => {
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const headers = { traceparent, baggage: SYNTHETIC_BAGGAGE };
    const controller = new AbortController();
    const timeoutMs = p.timeoutMs ?? Math.max(2 * p.thresholdMs, 1000);
    const probeFetch = (input: string | URL, init: RequestInit = {}): Promise<Response> => {
      const h = new Headers(init.headers);
      h.set('traceparent', traceparent);
      const baggage = h.get('baggage');
      h.set('baggage', baggage === null ? SYNTHETIC_BAGGAGE : `${baggage},${SYNTHETIC_BAGGAGE}`);
      return fetch(input, { ...init, headers: h, signal: init.signal ?? controller.signal });
    };
    const started = performance.now();
    let reason: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(() =>
          p.run({ fetch: probeFetch, headers, traceId, signal: controller.signal }),
        ),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(new Error(`timeout after ${timeoutMs} ms`));
          }, timeoutMs);
        }),
      ]);
    } catch (error) {
      reason = (error instanceof Error ? error.message : String(error)).slice(0, 200);
    } finally {
      clearTimeout(timer);
    }
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    if (reason === undefined && durationMs > p.thresholdMs)
      reason = `slower than ${p.thresholdMs} ms`;
    const ok = reason === undefined;
    success.set({ probe: p.name }, ok ? 1 : 0);
    duration.set({ probe: p.name }, durationMs / 1000);
    const fields = {
      extra: { probe: p.name, success: ok, traceId, reason },
      latency_ms: durationMs,
    };
    if (ok) telemetry.logger.info(fields, 'probe passed');
    else telemetry.logger.error(fields, 'probe failed');
    return { probe: p.name, success: ok, durationMs, traceId, ...(ok ? {} : { reason }) };
  };

  let timer: NodeJS.Timeout | undefined;
  let round: Promise<ProbeResult[]> | undefined;
  const runOnce = (): Promise<ProbeResult[]> => {
    round ??= Promise.all(options.probes.map(runProbe)).finally(() => {
      round = undefined;
    });
    return round;
  };
  return {
    runOnce,
    start() {
      if (timer !== undefined) return;
      void runOnce();
      timer = setInterval(() => {
        if (round === undefined) void runOnce();
      }, intervalMs);
      timer.unref?.();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await round;
    },
  };
}
