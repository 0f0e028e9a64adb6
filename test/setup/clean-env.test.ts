import { describe, expect, it } from 'vitest';

/**
 * Pins the isolation of the suite: the setup file ran before this file, so
 * the telemetry variables of the shell that started vitest are gone. Run
 * `OTEL_TRACES_SAMPLER=always_off STACKLIGHT_METRICS_TOKEN=x npx vitest run
 * test/setup` to see it fail without the setup file.
 */
describe('the test environment', () => {
  it('carries no OTEL_*, STACKLIGHT_* or SENTRY_* variable from the shell', () => {
    const leaked = Object.keys(process.env).filter(
      (name) =>
        /^(OTEL_|STACKLIGHT_|SENTRY_)/i.test(name) && name !== 'STACKLIGHT_UPDATE_LOG_SCHEMA',
    );
    expect(leaked).toEqual([]);
  });
});
