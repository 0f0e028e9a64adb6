import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateRules } from '../../src/slo/rules.js';
import { specSlos } from '../../src/slo/spec.js';
import { defineSlo } from '../../src/slo/define.js';
import { promtoolTest, ruleDir, type AlertCheck, type Series } from './promtool.js';

const dir = ruleDir();

/** The rule files an alert needs (promtool evaluates every loaded rule at every step). */
function filesFor(alerts: readonly string[]): string[] {
  const files = new Set<string>();
  for (const a of alerts) {
    if (a.startsWith('Spec')) files.add('spec-original.rules.yml');
    else if (/^(EdgeAvailability|LoginLatency)/.test(a)) files.add('slo-login.rules.yml');
    else if (a.startsWith('ReflectDelivery')) files.add('slo-reflect.rules.yml');
    else if (a.startsWith('ImportCompletion')) files.add('slo-import.rules.yml');
    else if (a.startsWith('Simulation')) files.add('slo-simulation.rules.yml');
    else if (a.startsWith('WeeklyDigest')) files.add('slo-digest.rules.yml');
    else {
      files.add('product-alerts.rules.yml');
      files.add('sli.rules.yml');
    }
  }
  return [...files].sort();
}

function passes(name: string, series: readonly Series[], checks: readonly AlertCheck[]): void {
  const r = promtoolTest(dir, filesFor(checks.map((c) => c.alert)), name, series, checks);
  expect(r.output).toContain('SUCCESS');
  expect(r.status, r.output).toBe(0);
}

const http = (code: string, values: string): Series => ({
  series: `http_requests_total{service="edge",route="/login",method="POST",code="${code}"}`,
  values,
});
const login = { slo: 'login', objective: 'availability' };

describe('generated rule files', () => {
  it('pass promtool check rules, every one', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.rules.yml'));
    expect(files).toHaveLength(8);
    const r = spawnSync('promtool', ['check', 'rules', ...files.map((f) => join(dir, f))], {
      encoding: 'utf8',
    });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout.match(/SUCCESS/g)).toHaveLength(8);
  });

  it('are the same bytes for the same input', () => {
    expect(generateRules({ docsBase: 'https://docs.example.com/x' })).toEqual(
      generateRules({ docsBase: 'https://docs.example.com/x' }),
    );
  });

  it('refuse an SLO that names a metric or label no service emits, or a threshold off the buckets', () => {
    const bad = defineSlo({
      ...specSlos()[0]!,
      name: 'typo',
      objectives: [
        {
          ...specSlos()[0]!.objectives[1]!,
          sli: {
            kind: 'latency',
            metric: 'http_request_duration_seconds',
            matchers: 'service="edge"',
            threshold: 0.3,
          },
        },
      ],
    });
    expect(() => generateRules({ slos: [bad] })).toThrow(
      'stacklight: slo "typo" objective "latency_p95".sli.threshold must be a bucket bound of http_request_duration_seconds',
    );
    const label = defineSlo({
      ...bad,
      objectives: [
        {
          ...bad.objectives[0]!,
          sli: {
            kind: 'ratio',
            metric: 'http_requests_total',
            matchers: 'status="500"',
            badMatchers: '',
          },
        },
      ],
    });
    expect(() => generateRules({ slos: [label] })).toThrow(
      /must be a label of http_requests_total: route, method, code, service, env, region, got "status"/,
    );
    const name = defineSlo({
      ...bad,
      objectives: [
        {
          ...bad.objectives[0]!,
          sli: {
            kind: 'ratio',
            metric: 'http_request_total',
            matchers: '',
            badMatchers: 'code=~"5.."',
          },
        },
      ],
    });
    expect(() => generateRules({ slos: [name] })).toThrow(/must be a counter of the catalog/);
  });
});

describe('EdgeAvailabilityBurn (login availability, multi-window multi-burn-rate)', () => {
  it('pages on a 10 % error ratio after the 1h/5m windows agree, and the 3d ticket follows', () => {
    passes(
      'edge-burn',
      [http('200', '0+540x100'), http('503', '0+60x100')],
      [
        { at: '30m', alert: 'EdgeAvailabilityBurn', firing: [login] },
        { at: '90m', alert: 'EdgeAvailabilityBurn', firing: [login] },
        { at: '90m', alert: 'EdgeAvailabilityBurnTicket', firing: [login] },
      ],
    );
  });

  it('stays silent just inside the objective (0.09 % errors)', () => {
    passes(
      'edge-inside',
      [http('200', '0+9991x200'), http('500', '0+9x200')],
      [
        { at: '190m', alert: 'EdgeAvailabilityBurn', firing: [] },
        { at: '190m', alert: 'EdgeAvailabilityBurnTicket', firing: [] },
      ],
    );
  });

  it('does not page under the 6× threshold (0.5 % errors for an hour) but tickets', () => {
    passes(
      'edge-under-page',
      [http('200', '0+995x90'), http('500', '0+5x90')],
      [
        { at: '80m', alert: 'EdgeAvailabilityBurn', firing: [] },
        { at: '80m', alert: 'EdgeAvailabilityBurnTicket', firing: [login] },
      ],
    );
  });

  it('ignores low traffic (one request a minute, half of them failing): the minimum-traffic guard', () => {
    passes(
      'edge-low-traffic',
      [http('200', '0+0.5x100'), http('500', '0+0.5x100')],
      [{ at: '90m', alert: 'EdgeAvailabilityBurn', firing: [] }],
    );
  });
});

const latency = (le: string, values: string): Series => ({
  series: `http_request_duration_seconds_bucket{service="edge",route="/login",method="POST",code="200",le="${le}"}`,
  values,
});
const latencyCount = (values: string): Series => ({
  series: `http_request_duration_seconds_count{service="edge",route="/login",method="POST",code="200"}`,
  values,
});

describe('LoginLatencyBurn (p95 ≤ 250 ms)', () => {
  it('pages when 80 % of logins take longer than 250 ms', () => {
    passes(
      'login-latency',
      [latency('0.25', '0+20x100'), latency('+Inf', '0+100x100'), latencyCount('0+100x100')],
      [
        {
          at: '70m',
          alert: 'LoginLatencyBurn',
          firing: [{ slo: 'login', objective: 'latency_p95' }],
        },
      ],
    );
  });

  it('stays silent with 4 % of logins over 250 ms', () => {
    passes(
      'login-latency-inside',
      [latency('0.25', '0+96x100'), latency('+Inf', '0+100x100'), latencyCount('0+100x100')],
      [
        { at: '90m', alert: 'LoginLatencyBurn', firing: [] },
        { at: '90m', alert: 'LoginLatencyBurnTicket', firing: [] },
      ],
    );
  });
});

function lag(channel: string, perLe: Record<string, number>, total: number): Series[] {
  const labels = `channel="${channel}",type="coach.reflection",service="edge"`;
  return [
    ...Object.entries(perLe).map(([le, n]) => ({
      series: `event_delivery_lag_ms_bucket{${labels},le="${le}"}`,
      values: `0+${n}x60`,
    })),
    { series: `event_delivery_lag_ms_bucket{${labels},le="+Inf"}`, values: `0+${total}x60` },
    { series: `event_delivery_lag_ms_count{${labels}}`, values: `0+${total}x60` },
  ];
}

describe('ReflectLatencyP95High', () => {
  // SSE fast (1500 a minute within 100 ms), WebSocket slow (60 a minute at 3–5 s).
  const sseFast = lag('sse', { '100': 1500, '2000': 1500, '3000': 1500, '5000': 1500 }, 1500);
  const wsSlow = lag('ws', { '100': 0, '2000': 0, '3000': 0, '5000': 60 }, 60);

  it('fires on a WebSocket-only breach that the spec rule (summed over le only) misses', () => {
    passes(
      'reflect-ws-only',
      [...sseFast, ...wsSlow],
      [
        { at: '30m', alert: 'ReflectLatencyP95High', firing: [{ channel: 'ws' }] },
        { at: '30m', alert: 'SpecReflectLatencyP95High', firing: [] },
        {
          at: '30m',
          alert: 'ReflectDeliveryBurn',
          firing: [{ slo: 'reflect', objective: 'latency_p95' }],
        },
      ],
    );
  });

  it('stays silent with the WebSocket p95 just under 3 s', () => {
    const wsInside = lag('ws', { '100': 0, '2000': 0, '3000': 60, '5000': 60 }, 60);
    passes(
      'reflect-inside',
      [...sseFast, ...wsInside],
      [
        { at: '50m', alert: 'ReflectLatencyP95High', firing: [] },
        { at: '50m', alert: 'ReflectDeliveryBurn', firing: [] },
      ],
    );
  });
});

const depth = (state: string, values: string, service = 'workers'): Series => ({
  series: `queue_depth{service="${service}",queue="q_import",state="${state}"}`,
  values,
});

describe('ImportBacklogGrowing', () => {
  it('does not page for 250 retained failed jobs with nothing waiting (the spec rule did)', () => {
    passes(
      'import-failed',
      [depth('failed', '250x60'), depth('waiting', '0x60')],
      [
        { at: '45m', alert: 'ImportBacklogGrowing', firing: [] },
        { at: '45m', alert: 'SpecImportBacklogGrowing', firing: [{}] },
      ],
    );
  });

  it('pages for a growing waiting backlog, counted once when two services report the queue', () => {
    passes(
      'import-growing',
      [depth('waiting', '0+5x60'), depth('waiting', '0+5x60', 'core'), depth('failed', '3x60')],
      [{ at: '45m', alert: 'ImportBacklogGrowing', firing: [{ queue: 'q_import' }] }],
    );
  });

  it('does not page for a large but steady backlog', () => {
    passes(
      'import-steady',
      [depth('waiting', '300x60')],
      [{ at: '45m', alert: 'ImportBacklogGrowing', firing: [] }],
    );
  });
});

const completion = (job: string, le: string, fast: number, total: number, extra = ''): Series[] => {
  const labels = `service="workers",queue="q",job="${job}",status="completed"${extra}`;
  return [
    {
      series: `job_completion_duration_seconds_bucket{${labels},le="${le}"}`,
      values: `0+${fast}x100`,
    },
    {
      series: `job_completion_duration_seconds_bucket{${labels},le="+Inf"}`,
      values: `0+${total}x100`,
    },
    { series: `job_completion_duration_seconds_count{${labels}}`, values: `0+${total}x100` },
  ];
};

describe('job completion SLOs (end to end)', () => {
  it('ImportCompletionBurn pages when most imports take over 60 s, and stays silent at 4 %', () => {
    passes('import-slow', completion('import', '60', 10, 100), [
      {
        at: '70m',
        alert: 'ImportCompletionBurn',
        firing: [{ slo: 'import', objective: 'latency_p95' }],
      },
    ]);
    passes('import-inside', completion('import', '60', 96, 100), [
      { at: '90m', alert: 'ImportCompletionBurn', firing: [] },
    ]);
  });

  it('SimulationWarmBurn holds warm runs to 1 s; cold runs to 3 s', () => {
    passes(
      'sim-warm',
      [
        ...completion('sim', '1', 10, 100, ',cache="warm"'),
        ...completion('sim', '3', 99, 100, ',cache="cold"'),
      ],
      [
        {
          at: '70m',
          alert: 'SimulationWarmBurn',
          firing: [{ slo: 'simulation', objective: 'warm_p95' }],
        },
        { at: '70m', alert: 'SimulationColdBurn', firing: [] },
      ],
    );
  });
});

describe('WeeklyDigestLate', () => {
  const digest = (onTime: number): Series[] => [
    { series: 'digest_recipients_total{service="workers"}', values: '0 1000x40' },
    {
      series: 'digest_deliveries_total{service="workers",outcome="on_time"}',
      values: `0 ${onTime}x40`,
    },
  ];
  it('tickets when more than 1 % of active users had no digest on time', () => {
    passes('digest-late', digest(950), [
      { at: '30m', alert: 'WeeklyDigestLate', firing: [{ slo: 'digest', objective: 'on_time' }] },
    ]);
  });
  it('stays silent at 99.5 % on time', () => {
    passes('digest-inside', digest(995), [{ at: '30m', alert: 'WeeklyDigestLate', firing: [] }]);
  });
});

describe('AIErrorRateHigh', () => {
  const ai = (calls: number, errors: number): Series[] => [
    {
      series: 'ai_request_total{service="core",endpoint="/v1/nlg/reflect"}',
      values: `0+${calls}x40`,
    },
    {
      series: 'ai_request_errors_total{service="core",endpoint="/v1/nlg/reflect",reason="timeout"}',
      values: `0+${errors}x40`,
    },
  ];
  it('pages at 10 % errors, not at 4 %, not at one failing call a minute', () => {
    passes('ai-high', ai(100, 10), [{ at: '25m', alert: 'AIErrorRateHigh', firing: [{}] }]);
    passes('ai-inside', ai(100, 4), [{ at: '25m', alert: 'AIErrorRateHigh', firing: [] }]);
    passes('ai-low-traffic', ai(1, 1), [{ at: '25m', alert: 'AIErrorRateHigh', firing: [] }]);
  });
});

describe('PostgresBloatOrLocks (postgres_exporter names)', () => {
  it('tickets for an exclusive lock held 15 minutes, not for row locks', () => {
    passes(
      'pg-locks',
      [
        {
          series: 'pg_locks_count{datname="app",mode="accessexclusivelock",instance="pg:9187"}',
          values: '1x40',
        },
        {
          series: 'pg_locks_count{datname="app",mode="rowexclusivelock",instance="pg:9187"}',
          values: '7x40',
        },
      ],
      [
        {
          at: '30m',
          alert: 'PostgresBloatOrLocks',
          firing: [{ datname: 'app', mode: 'accessexclusivelock' }],
        },
      ],
    );
  });

  it('tickets for a bloated table autovacuum has not visited for a day, not for a fresh one', () => {
    const table = (relname: string, lastVacuum: number): Series[] => {
      const l = `datname="app",schemaname="public",relname="${relname}"`;
      return [
        { series: `pg_stat_user_tables_n_dead_tup{${l}}`, values: '50000x40' },
        { series: `pg_stat_user_tables_n_live_tup{${l}}`, values: '50000x40' },
        { series: `pg_stat_user_tables_last_autovacuum{${l}}`, values: `${lastVacuum}x40` },
      ];
    };
    passes(
      'pg-bloat',
      [...table('trades', -100000), ...table('users', 0)],
      [
        {
          at: '30m',
          alert: 'PostgresBloatOrLocks',
          firing: [{ datname: 'app', schemaname: 'public', relname: 'trades' }],
        },
      ],
    );
  });
});

describe('RB-06 and RB-07 alerts', () => {
  it('RedisDown pages when redis_up is 0; RedisEvictingKeys tickets on evictions', () => {
    passes(
      'redis',
      [
        { series: 'redis_up{instance="redis:9121",job="redis"}', values: '1 1 1 0x20' },
        { series: 'redis_evicted_keys_total{instance="redis:9121",job="redis"}', values: '0+2x20' },
      ],
      [
        { at: '15m', alert: 'RedisDown', firing: [{ instance: 'redis:9121', job: 'redis' }] },
        {
          at: '15m',
          alert: 'RedisEvictingKeys',
          firing: [{ instance: 'redis:9121', job: 'redis' }],
        },
      ],
    );
  });

  it('WsDropRateHigh tickets at 10 % drops, not at 3 %', () => {
    const ws = (opened: number, dropped: number): Series[] => [
      { series: 'ws_connections_opened_total{service="edge"}', values: `0+${opened}x40` },
      {
        series: 'ws_dropped_connections_total{service="edge",reason="abnormal"}',
        values: `0+${dropped}x40`,
      },
    ];
    passes('ws-drops', ws(10, 1), [{ at: '25m', alert: 'WsDropRateHigh', firing: [{}] }]);
    passes('ws-drops-inside', ws(33, 1), [{ at: '25m', alert: 'WsDropRateHigh', firing: [] }]);
  });

  it('SseStreamUnstable tickets when the Edge subscriber keeps reconnecting', () => {
    passes(
      'sse',
      [{ series: 'sse_reconnects_total{service="edge",reason="network"}', values: '0+1x40' }],
      [{ at: '25m', alert: 'SseStreamUnstable', firing: [{ service: 'edge' }] }],
    );
  });
});
