/**
 * Runs before every test file (vitest `setupFiles`, one forked process per
 * file): removes the telemetry configuration a developer's shell or a CI
 * host may carry (`OTEL_*`, `STACKLIGHT_*`, `SENTRY_*`), so that a test sees
 * only the configuration it sets itself. A test that needs a variable sets
 * it (and its children inherit the cleaned environment).
 *
 * `STACKLIGHT_UPDATE_LOG_SCHEMA` is a switch of the test suite itself (it
 * rewrites log-schema.json), not a setting of the SDK: it is kept.
 */
const PREFIXES = ['OTEL_', 'STACKLIGHT_', 'SENTRY_'] as const;
const KEEP = new Set(['STACKLIGHT_UPDATE_LOG_SCHEMA']);

for (const name of Object.keys(process.env)) {
  if (KEEP.has(name)) continue;
  if (PREFIXES.some((prefix) => name.toUpperCase().startsWith(prefix))) delete process.env[name];
}
