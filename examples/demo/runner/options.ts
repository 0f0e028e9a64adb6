/** The demo's command line: parsed and checked, with errors naming option, value and what is allowed. */
import { parseArgs } from 'node:util';

export interface DemoOptions {
  duration: number | undefined;
  json: string | undefined;
  logs: string | undefined;
  users: number;
  prometheus: boolean;
  rules: string | undefined;
  aiErrors: number;
  aiLatencyMs: number;
  broker429: number;
  killRedisAfter: number | undefined;
}

export const USAGE = `Usage: npm run demo -- [options]

Starts the product's services in miniature (Edge, Core, Workers, AI Coach),
instrumented with stacklight, drives users' traffic at them and shows a live
summary. Ctrl-C stops it and draws one end-to-end trace.

  --duration <s>          stop after <s> seconds of traffic (default: until Ctrl-C)
  --json <file>           write the final summary as JSON
  --logs <dir>            folder for the services' logs (default: a new one under the temp dir)
  --users <n>             simulated users (default 6)
  --prometheus            also run Prometheus (Debian package 'prometheus') scraping every service
  --rules <dir>           load the rule files (*.yml) of <dir> into that Prometheus; shows alert states
  --ai-errors <0..1>      share of AI Coach requests answered 503 (default 0)
  --ai-latency <time>     latency of /v1/nlg/reflect: 4s, 800ms or ms (default 300ms)
  --broker-429 <0..1>     share of broker pages answered 429 (default 0)
  --kill-redis-after <s>  kill the demo's redis-server after <s> seconds (starts one of its own)

Environment: REDIS_URL (default redis://127.0.0.1:6379), DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/postgres), OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (spans are forwarded there too).
`;

class OptionError extends Error {
  constructor(option: string, value: unknown, allowed: string) {
    super(`demo: ${option} must be ${allowed}, got ${JSON.stringify(value)}`);
  }
}

function number(
  option: string,
  value: string | undefined,
  min: number,
  max: number,
  allowed: string,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new OptionError(option, value, allowed);
  return n;
}

/** `4s`, `1.5s`, `800ms`, `800` → milliseconds. */
function duration(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(value.trim());
  if (m === null) throw new OptionError(option, value, 'a duration such as 4s, 800ms or 800 (ms)');
  return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

/** The options, or 'help'. Throws an error naming the option on a bad value. */
export function parseDemoOptions(argv: readonly string[]): DemoOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      duration: { type: 'string' },
      json: { type: 'string' },
      logs: { type: 'string' },
      users: { type: 'string' },
      prometheus: { type: 'boolean' },
      rules: { type: 'string' },
      'ai-errors': { type: 'string' },
      'ai-latency': { type: 'string' },
      'broker-429': { type: 'string' },
      'kill-redis-after': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values.rules !== undefined && !values.prometheus)
    throw new OptionError('--rules', values.rules, 'used with --prometheus');
  return {
    duration: number('--duration', values.duration, 1, 86_400, 'a number of seconds in [1, 86400]'),
    json: values.json,
    logs: values.logs,
    users: number('--users', values.users, 1, 200, 'an integer in [1, 200]') ?? 6,
    prometheus: values.prometheus === true,
    rules: values.rules,
    aiErrors: number('--ai-errors', values['ai-errors'], 0, 1, 'a share in [0, 1]') ?? 0,
    aiLatencyMs: duration('--ai-latency', values['ai-latency']) ?? 300,
    broker429: number('--broker-429', values['broker-429'], 0, 1, 'a share in [0, 1]') ?? 0,
    killRedisAfter: number(
      '--kill-redis-after',
      values['kill-redis-after'],
      1,
      86_400,
      'a number of seconds in [1, 86400]',
    ),
  };
}
