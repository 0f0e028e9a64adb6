import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { isStacklightError } from '../../src/errors.js';

const resolve = (options: Parameters<typeof resolveConfig>[0], env: NodeJS.ProcessEnv = {}) =>
  resolveConfig(options, env);

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isStacklightError(err)) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('boolean variables (the OpenTelemetry rule)', () => {
  it.each([
    ['true', false, false],
    ['TRUE', false, false],
    [' True ', false, false],
    ['false', true, false],
    ['0', true, true],
    ['1', true, true],
    ['yes', true, true],
  ])('OTEL_SDK_DISABLED=%j leaves tracing.enabled %s (warned: %s)', (raw, enabled, warned) => {
    const config = resolve({ service: 's' }, { OTEL_SDK_DISABLED: raw });
    expect(config.tracing.enabled).toBe(enabled);
    const warning = config.warnings.find((w) => w.startsWith('OTEL_SDK_DISABLED'));
    if (warned) {
      expect(warning).toBe(
        `OTEL_SDK_DISABLED is ${JSON.stringify(raw)}, which is read as false: only "true" (any case) is true`,
      );
    } else expect(warning).toBeUndefined();
  });

  it('reads STACKLIGHT_* booleans the same way: only "true" is true', () => {
    const one = resolve({ service: 's' }, { STACKLIGHT_HANDLE_SIGNALS: '1' });
    expect(one.shutdown.handleSignals).toBe(false);
    expect(one.warnings).toContain(
      'STACKLIGHT_HANDLE_SIGNALS is "1", which is read as false: only "true" (any case) is true',
    );
    expect(
      resolve({ service: 's' }, { STACKLIGHT_HANDLE_SIGNALS: 'TRUE' }).shutdown.handleSignals,
    ).toBe(true);
  });
});

describe('OpenTelemetry variables stacklight does not implement', () => {
  it('names every one present in a single warning, and none it implements', () => {
    const config = resolve(
      { service: 's' },
      {
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_BSP_EXPORT_TIMEOUT: '1000',
        OTEL_EXPORTER_OTLP_INSECURE: 'true',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
        OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '64',
        OTEL_LOG_LEVEL: 'debug',
        OTEL_PROPAGATORS: 'tracecontext,baggage',
        OTEL_EMPTY_ONE: '',
      },
    );
    const unimplemented = config.warnings.filter((w) =>
      w.includes('not implemented by stacklight'),
    );
    expect(unimplemented).toEqual([
      'these OpenTelemetry variables are set but not implemented by stacklight, and are ignored: ' +
        'OTEL_BSP_EXPORT_TIMEOUT, OTEL_EXPORTER_OTLP_INSECURE, OTEL_METRICS_EXPORTER ' +
        '(docs/configuration.md lists the ones it implements)',
    ]);
    expect(config.tracing.compression).toBe('gzip');
    expect(config.logging.diagnosticsLevel).toBe('debug');
  });

  it('warns about propagators other than tracecontext and baggage', () => {
    const config = resolve({ service: 's' }, { OTEL_PROPAGATORS: 'tracecontext,B3,xray' });
    expect(config.warnings).toContain(
      'OTEL_PROPAGATORS lists "b3", "xray", which stacklight does not implement: it reads and writes W3C traceparent/tracestate and baggage only ("tracecontext,baggage")',
    );
  });
});

describe('OTLP exporter settings', () => {
  it('takes a list of exporters from OTEL_TRACES_EXPORTER and from the option', () => {
    expect(
      resolve({ service: 's' }, { OTEL_TRACES_EXPORTER: 'otlp, Console' }).tracing.exporter,
    ).toEqual(['otlp', 'console']);
    expect(resolve({ service: 's', tracing: { exporter: ['console'] } }).tracing.exporter).toEqual([
      'console',
    ]);
    expect(messageOf(() => resolve({ service: 's' }, { OTEL_TRACES_EXPORTER: 'otlp,none' }))).toBe(
      'stacklight: OTEL_TRACES_EXPORTER must be one of "otlp", "console", "none", or a list of them ("none" alone), got "otlp,none"',
    );
  });

  it.each(['grpc', 'http/json'])(
    'refuses OTEL_EXPORTER_OTLP_PROTOCOL=%s, saying what is supported',
    (p) => {
      expect(messageOf(() => resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_PROTOCOL: p }))).toBe(
        `stacklight: OTEL_EXPORTER_OTLP_PROTOCOL must be "http/protobuf" (stacklight exports OTLP over HTTP with protobuf bodies; "grpc" and "http/json" are not supported: point the endpoint at the collector's OTLP/HTTP port, usually 4318), got "${p}"`,
      );
    },
  );

  it('reads compression, the traces-specific variable first', () => {
    expect(
      resolve(
        { service: 's' },
        { OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' },
      ).tracing.compression,
    ).toBe('none');
    expect(
      messageOf(() => resolve({ service: 's', tracing: { compression: 'br' as 'gzip' } })),
    ).toBe('stacklight: tracing.compression must be one of "gzip", "none", got "br"');
  });

  it('checks the TLS files at init() and wants a client key with a client certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stacklight-tls-'));
    const pem = join(dir, 'ca.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n');
    expect(
      resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_CERTIFICATE: pem }).tracing.certificate,
    ).toBe(pem);
    expect(
      messageOf(() =>
        resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'missing.pem') }),
      ),
    ).toBe(
      `stacklight: OTEL_EXPORTER_OTLP_CERTIFICATE must be the path of a readable file, got "${join(dir, 'missing.pem')}"`,
    );
    expect(
      messageOf(() => resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: pem })),
    ).toBe(
      'stacklight: OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE must be given together with tracing.clientKey (mutual TLS needs both the certificate and its key), got "[path]"',
    );
  });

  it('refuses a header value HTTP cannot carry, without showing any value', () => {
    const message = messageOf(() =>
      resolve({
        service: 's',
        tracing: { headers: { 'x-key': 'k€y', authorization: 'Bearer s3cret' } },
      }),
    );
    expect(message).toContain('tracing.headers must be an object of HTTP header names');
    expect(message).toContain(
      'got {"x-key":"[hidden, invalid value]","authorization":"[REDACTED]"}',
    );
    expect(message).not.toContain('s3cret');
    expect(message).not.toContain('k€y');
    expect(
      messageOf(() =>
        resolve({ service: 's' }, { OTEL_EXPORTER_OTLP_HEADERS: 'x-key=k%E2%82%ACy' }),
      ),
    ).toContain('OTEL_EXPORTER_OTLP_HEADERS must be');
  });
});

describe('contradictory options', () => {
  it('refuses a ratio with a sampler that takes none', () => {
    expect(
      messageOf(() =>
        resolve({ service: 's', tracing: { sampler: 'always_on', sampleRatio: 0.1 } }),
      ),
    ).toBe(
      'stacklight: tracing.sampleRatio must be left unset with the sampler "always_on" (tracing.sampler), which takes no ratio; use "traceidratio" or "parentbased_traceidratio" to sample by ratio, got 0.1',
    );
    expect(
      messageOf(() =>
        resolve(
          { service: 's' },
          { OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: '0.5' },
        ),
      ),
    ).toContain(
      'OTEL_TRACES_SAMPLER_ARG must be left unset with the sampler "always_off" (OTEL_TRACES_SAMPLER)',
    );
    expect(
      resolve({ service: 's', tracing: { sampler: 'traceidratio', sampleRatio: 0.1 } }).tracing
        .sampleRatio,
    ).toBe(0.1);
  });

  it('refuses a batch larger than the queue', () => {
    expect(
      messageOf(() =>
        resolve({ service: 's', tracing: { maxQueueSize: 100, maxExportBatchSize: 200 } }),
      ),
    ).toBe(
      'stacklight: tracing.maxExportBatchSize must be at most tracing.maxQueueSize (100): a batch cannot be larger than the queue it is taken from, got 200',
    );
  });

  it('bounds the export timeout by the shutdown budget, warning when it was asked for', () => {
    const byDefault = resolve({ service: 's' });
    expect(byDefault.tracing.exportTimeoutMs).toBe(5000);
    expect(byDefault.warnings).toEqual([]);
    const asked = resolve(
      { service: 's', shutdown: { timeoutMs: 2000 } },
      { OTEL_EXPORTER_OTLP_TIMEOUT: '30000' },
    );
    expect(asked.tracing.exportTimeoutMs).toBe(2000);
    expect(asked.warnings).toEqual([
      'OTEL_EXPORTER_OTLP_TIMEOUT=30000 is longer than the shutdown budget (shutdown.timeoutMs=2000); exports are bounded to 2000 ms so that shutdown can always finish',
    ]);
  });
});
