import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { isStacklightError } from '../../src/errors.js';

const resolve = (options: Parameters<typeof resolveConfig>[0], env: NodeJS.ProcessEnv = {}) =>
  resolveConfig(options, env);

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isStacklightError(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration precedence', () => {
  it('takes an explicit option over OTEL_* over STACKLIGHT_* over the default', () => {
    const env = {
      OTEL_SERVICE_NAME: 'from-otel',
      STACKLIGHT_SERVICE: 'from-stacklight',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
      STACKLIGHT_TRACES_SAMPLE_RATIO: '0.25',
    };
    expect(resolve({ service: 'from-option' }, env).service).toBe('from-option');
    expect(resolve({}, env).service).toBe('from-otel');
    expect(resolve({}, { STACKLIGHT_SERVICE: 'from-stacklight' }).service).toBe('from-stacklight');
    expect(resolve({ service: 's', tracing: { sampleRatio: 0.1 } }, env).tracing.sampleRatio).toBe(
      0.1,
    );
    expect(resolve({ service: 's' }, env).tracing.sampleRatio).toBe(0.5);
    expect(
      resolve({ service: 's' }, { STACKLIGHT_TRACES_SAMPLE_RATIO: '0.25' }).tracing.sampleRatio,
    ).toBe(0.25);
    expect(resolve({ service: 's' }).tracing.sampleRatio).toBe(1);
  });

  it('reads OTEL_RESOURCE_ATTRIBUTES after OTEL_SERVICE_NAME, percent-decoded', () => {
    const attrs =
      'service.name=attr-svc,service.version=2.0.1,deployment.environment.name=staging,cloud.region=eu%2Dwest-1';
    const c = resolve({}, { OTEL_RESOURCE_ATTRIBUTES: attrs });
    expect([c.service, c.version, c.env, c.region]).toEqual([
      'attr-svc',
      '2.0.1',
      'staging',
      'eu-west-1',
    ]);
    expect(
      resolve({}, { OTEL_RESOURCE_ATTRIBUTES: attrs, OTEL_SERVICE_NAME: 'named' }).service,
    ).toBe('named');
    expect(resolve({}, { OTEL_RESOURCE_ATTRIBUTES: attrs, STACKLIGHT_ENV: 'dev' }).env).toBe(
      'staging',
    );
    expect(
      resolve({ service: 's' }, { OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=legacy' }).env,
    ).toBe('legacy');
  });

  it("resolves the resource attributes once: the variable's pairs, the resolved service settings over them", () => {
    const c = resolve(
      { service: 'from-option' },
      {
        OTEL_RESOURCE_ATTRIBUTES:
          'service.name=from-variable,team=pay%20ments,cloud.region=eu-west-1,service.version=2.0.1',
        STACKLIGHT_REGION: 'us-east-1',
        STACKLIGHT_VERSION: '9.9.9',
      },
    );
    expect(c.resource).toEqual({
      'service.name': 'from-option',
      team: 'pay ments',
      // The standard variable before STACKLIGHT_*: its own pairs win here.
      'cloud.region': 'eu-west-1',
      'service.version': '2.0.1',
      'deployment.environment.name': c.env,
    });
  });

  it('derives the traces endpoint from the generic OTLP endpoint, the specific one first', () => {
    expect(
      resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing
        .endpoint,
    ).toBe('http://collector:4318/v1/traces');
    expect(
      resolve(
        { service: 's' },
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom',
        },
      ).tracing.endpoint,
    ).toBe('http://b:4318/custom');
    expect(resolve({ service: 's' }).tracing.endpoint).toBe('http://localhost:4318/v1/traces');
  });

  it('maps OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER and OTEL_TRACES_SAMPLER', () => {
    expect(resolve({ service: 's' }, { OTEL_SDK_DISABLED: 'true' }).tracing.enabled).toBe(false);
    expect(resolve({ service: 's' }, { OTEL_SDK_DISABLED: 'FALSE' }).tracing.enabled).toBe(true);
    expect(
      resolve({ service: 's', tracing: { enabled: true } }, { OTEL_SDK_DISABLED: 'true' }).tracing
        .enabled,
    ).toBe(true);
    expect(resolve({ service: 's' }, { OTEL_TRACES_EXPORTER: 'console' }).tracing.exporter).toEqual(
      ['console'],
    );
    expect(
      resolve(
        { service: 's' },
        { OTEL_TRACES_EXPORTER: 'none', STACKLIGHT_TRACES_EXPORTER: 'otlp' },
      ).tracing.exporter,
    ).toEqual(['none']);
    expect(resolve({ service: 's' }, { OTEL_TRACES_SAMPLER: 'always_off' }).tracing.sampler).toBe(
      'always_off',
    );
    expect(resolve({ service: 's' }).tracing.sampler).toBe('parentbased_traceidratio');
  });

  it('treats an empty variable as unset', () => {
    expect(resolve({}, { OTEL_SERVICE_NAME: '', STACKLIGHT_SERVICE: 'x' }).service).toBe('x');
    expect(resolve({ service: 's' }, { OTEL_TRACES_SAMPLER_ARG: '  ' }).tracing.sampleRatio).toBe(
      1,
    );
  });

  it('defaults env to NODE_ENV, else production, and stack traces to development/test only', () => {
    expect(resolve({ service: 's' }).env).toBe('production');
    expect(resolve({ service: 's' }).logging.stackTraces).toBe(false);
    expect(resolve({ service: 's' }, { NODE_ENV: 'development' }).logging.stackTraces).toBe(true);
    expect(resolve({ service: 's', env: 'test' }).logging.stackTraces).toBe(true);
    expect(
      resolve({ service: 's', env: 'test', logging: { stackTraces: false } }).logging.stackTraces,
    ).toBe(false);
  });
});

describe('configuration errors', () => {
  const cases: [string, () => unknown, string][] = [
    [
      'missing service',
      () => resolve({}),
      'stacklight: service must be set by the "service" option, OTEL_SERVICE_NAME, service.name in OTEL_RESOURCE_ATTRIBUTES or STACKLIGHT_SERVICE, got undefined',
    ],
    [
      'empty service',
      () => resolve({ service: '' }),
      'stacklight: service must be a non-empty string of at most 128 printable characters, got ""',
    ],
    [
      'service with a newline',
      () => resolve({ service: 'a\nb' }),
      'stacklight: service must be a non-empty string of at most 128 printable characters, got "a\\nb"',
    ],
    [
      'sample ratio option',
      () => resolve({ service: 's', tracing: { sampleRatio: 1.5 } }),
      'stacklight: tracing.sampleRatio must be a number in [0, 1], got 1.5',
    ],
    [
      'sample ratio variable',
      () => resolve({ service: 's' }, { OTEL_TRACES_SAMPLER_ARG: '1.5' }),
      'stacklight: OTEL_TRACES_SAMPLER_ARG must be a number in [0, 1], got "1.5"',
    ],
    [
      'non-numeric ratio variable',
      () => resolve({ service: 's' }, { STACKLIGHT_TRACES_SAMPLE_RATIO: 'half' }),
      'stacklight: STACKLIGHT_TRACES_SAMPLE_RATIO must be a number in [0, 1], got "half"',
    ],
    [
      'exporter',
      () => resolve({ service: 's' }, { OTEL_TRACES_EXPORTER: 'zipkin' }),
      'stacklight: OTEL_TRACES_EXPORTER must be one of "otlp", "console", "none", or a list of them ("none" alone), got "zipkin"',
    ],
    [
      'sampler',
      () => resolve({ service: 's' }, { OTEL_TRACES_SAMPLER: 'jaeger_remote' }),
      'stacklight: OTEL_TRACES_SAMPLER must be one of "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio", got "jaeger_remote"',
    ],
    [
      'endpoint',
      () => resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }),
      'stacklight: OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute http:// or https:// URL, got "collector:4318"',
    ],
    [
      'endpoint option',
      () => resolve({ service: 's', tracing: { endpoint: 'ftp://x' } }),
      'stacklight: tracing.endpoint must be an absolute http:// or https:// URL, got "ftp://x"',
    ],
    [
      'resource attributes',
      () => resolve({ service: 's' }, { OTEL_RESOURCE_ATTRIBUTES: 'novalue' }),
      'stacklight: OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list of key=value pairs with percent-encoded values, got "novalue"',
    ],
    [
      'log level',
      () => resolve({ service: 's', logging: { level: 'verbose' as never } }),
      'stacklight: logging.level must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "verbose"',
    ],
    [
      'max series',
      () => resolve({ service: 's' }, { STACKLIGHT_MAX_SERIES_PER_METRIC: '0' }),
      'stacklight: STACKLIGHT_MAX_SERIES_PER_METRIC must be an integer in [1, 1000000], got "0"',
    ],
    [
      'metrics port',
      () => resolve({ service: 's', metrics: { port: 70000 } }),
      'stacklight: metrics.port must be an integer in [0, 65535], got 70000',
    ],
    [
      'metrics path',
      () => resolve({ service: 's', metrics: { path: 'metrics' } }),
      'stacklight: metrics.path must be a path starting with "/", got "metrics"',
    ],
    [
      'unknown option',
      () => resolve({ service: 's', servce: 'x' } as never),
      'stacklight: servce must be a known option (service, env, region, version, logging, metrics, tracing, sentry, shutdown); "servce" is not one, got "x"',
    ],
    [
      'unknown section key',
      () => resolve({ service: 's', tracing: { sampleRate: 1 } as never }),
      'stacklight: tracing.sampleRate must be a known option of tracing',
    ],
    [
      'destination',
      () => resolve({ service: 's', logging: { destination: 'stdout' as never } }),
      'stacklight: logging.destination must be a writable stream (an object with a write() method), got "stdout"',
    ],
    [
      'shutdown timeout',
      () => resolve({ service: 's', shutdown: { timeoutMs: -1 } }),
      'stacklight: shutdown.timeoutMs must be an integer in [1, 600000], got -1',
    ],
    [
      'headers',
      () => resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_HEADERS: 'api-key' }),
      'stacklight: OTEL_EXPORTER_OTLP_HEADERS must be an object of HTTP header names (tokens) and string values that HTTP allows (visible ASCII, spaces, tabs or Latin-1; no control characters, no "€") (environment: "key=value,key2=value2"), got "[7 chars, no \\"=\\"]"',
    ],
    [
      'sentry dsn',
      () => resolve({ service: 's' }, { SENTRY_DSN: 'not a url' }),
      'stacklight: SENTRY_DSN must be an absolute http:// or https:// URL, got "not a url"',
    ],
  ];
  it.each(cases)('names the option, the value and what is allowed: %s', (_name, fn, message) => {
    expect(messageOf(fn)).toContain(message);
  });

  it('parses OTLP headers from the environment', () => {
    expect(
      resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%3D,x-tenant=t1' })
        .tracing.headers,
    ).toEqual({
      'api-key': 'abc=',
      'x-tenant': 't1',
    });
  });
});
