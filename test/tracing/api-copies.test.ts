import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as OtelApi from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { apiCopies, apiForGlobals } from '../../src/tracing/otel-api.js';
import { createLogCapture } from '../helpers/log-capture.js';

/**
 * A service whose own @opentelemetry/api is a newer minor than stacklight's
 * (npm nests stacklight's copy then). An API refuses globals registered by
 * an older minor, so stacklight registers through the newer copy: the
 * service's API then sees stacklight's spans and injects their traceparent.
 * The newer copy is a real copy of the API with its version raised.
 */

const own = join(process.cwd(), 'node_modules/@opentelemetry/api');
const app = mkdtempSync(join(tmpdir(), 'stacklight-api-copies-'));
const appApiDir = join(app, 'node_modules/@opentelemetry/api');
cpSync(own, appApiDir, { recursive: true });
const pkgPath = join(appApiDir, 'package.json');
const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string };
const ownVersion = pkg.version;
const [major, minor] = ownVersion.split('.').map(Number) as [number, number];
const newer = `${major}.${minor + 1}.0`;
writeFileSync(pkgPath, JSON.stringify({ ...pkg, version: newer }));
for (const build of ['build/src/version.js', 'build/esm/version.js', 'build/esnext/version.js']) {
  const file = join(appApiDir, build);
  writeFileSync(file, readFileSync(file, 'utf8').replace(`'${ownVersion}'`, `'${newer}'`));
}
writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}');
const cwd = process.cwd();

afterAll(() => {
  process.chdir(cwd);
  rmSync(app, { recursive: true, force: true });
});

describe('a service on a newer @opentelemetry/api than stacklight', () => {
  it('sees stacklight’s active span and injects its traceparent through its own API', async () => {
    process.chdir(app);
    expect(
      apiCopies()
        .map((c) => c.version)
        .sort(),
    ).toEqual([ownVersion, newer].sort());
    expect(apiForGlobals()).not.toBe(await import('@opentelemetry/api'));
    const logs = createLogCapture();
    const telemetry = init({
      service: 'api-copies',
      tracing: { exporter: 'none' },
      logging: { destination: logs.stream },
    });
    try {
      const appApi = createRequire(join(app, 'package.json'))(
        '@opentelemetry/api',
      ) as typeof OtelApi;
      const { seen, carrier, traceId } = telemetry.tracer.startActiveSpan('work', (span) => {
        const carrier: Record<string, string> = {};
        appApi.propagation.inject(appApi.context.active(), carrier);
        const out = {
          seen: appApi.trace.getActiveSpan()?.spanContext().spanId,
          carrier,
          traceId: span.spanContext().traceId,
          spanId: span.spanContext().spanId,
        };
        span.end();
        expect(out.seen).toBe(out.spanId);
        return out;
      });
      expect(seen).toBeDefined();
      expect(carrier.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-03$`));
      const warning = logs
        .lines()
        .find((l) => String(l.msg).includes('copies of @opentelemetry/api'));
      expect(warning?.msg).toContain(newer);
      expect(warning?.msg).toContain('npm dedupe');
    } finally {
      await telemetry.shutdown();
    }
  });
});
