/**
 * The error-message exit: a ConfigError or MetricError shows a secret-shaped
 * value by its shape, never its content — in `message`, in `.value` and in
 * the error's JSON.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, init, MetricError } from '../../src/index.js';
import { SECRET_STRINGS } from '../helpers/secret-cases.js';

const TOKEN = 'tok-' + 'Q'.repeat(37); // 41 characters

function initError(
  env: Record<string, string>,
  options: Record<string, unknown> = {},
): ConfigError {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    init({ service: 'edge', ...options });
  } catch (e) {
    return e as ConfigError;
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
  throw new Error('init() did not throw');
}

describe('secrets in configuration errors', () => {
  it('shows an invalid OTEL_EXPORTER_OTLP_HEADERS by its shape only', () => {
    const err = initError({ OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${TOKEN},broken` });
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.option).toBe('OTEL_EXPORTER_OTLP_HEADERS');
    // Header values are credentials more often than not: names and lengths only.
    expect(err.value).toBe('authorization [value of 48 chars],[6 chars, no "="]');
    expect(err.message).toContain('got "authorization [value of 48 chars],[6 chars, no \\"=\\"]"');
    for (const text of [err.message, JSON.stringify(err), String(err.stack)]) {
      expect(text).not.toContain(TOKEN);
    }
  });

  it('redacts secret keys of an invalid option object', () => {
    const err = initError({}, { tracing: { headers: { authorization: `Bearer ${TOKEN}`, n: 1 } } });
    expect(err.option).toBe('tracing.headers');
    expect(JSON.stringify(err)).not.toContain(TOKEN);
    expect(err.message).not.toContain(TOKEN);
  });

  it.each(SECRET_STRINGS.map((c) => [c.name, c] as const))(
    'shows %s by its shape in a ConfigError and a MetricError',
    (_n, c) => {
      const config = new ConfigError('some.option', c.text, 'something else');
      const metric = new MetricError(`label value "${c.text}" is not allowed`);
      for (const text of [config.message, JSON.stringify(config), metric.message]) {
        for (const secret of c.secrets) expect(text, c.name).not.toContain(secret);
      }
    },
  );

  it('keeps ordinary values as given', () => {
    const err = new ConfigError('tracing.sampleRatio', '1.5', 'a number in [0, 1]');
    expect(err.message).toBe(
      'stacklight: tracing.sampleRatio must be a number in [0, 1], got "1.5"',
    );
    expect(err.value).toBe('1.5');
    const opts = { a: 1 };
    expect(new ConfigError('x', opts, 'y').value).toBe(opts);
  });
});
