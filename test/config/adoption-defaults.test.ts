import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { appPackageVersion } from '../../src/config/settings.js';
import { init } from '../../src/index.js';
import { createLogCapture } from '../helpers/log-capture.js';

/** The resource attributes of a span made by a fresh `init({ service })`, and its version. */
async function resourceOfASpan(service: string) {
  const exporter = new InMemorySpanExporter();
  const telemetry = init({
    service,
    tracing: { exporter: 'none', spanProcessors: [new SimpleSpanProcessor(exporter)] },
    logging: { destination: createLogCapture().stream },
    shutdown: { handleCrashes: false },
  });
  try {
    telemetry.tracer.startSpan('x').end();
    return {
      attrs: exporter.getFinishedSpans()[0]!.resource.attributes,
      version: telemetry.version,
    };
  } finally {
    await telemetry.shutdown();
  }
}

describe('defaults a real service expects', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('takes LOG_LEVEL (any case) when no other level is set, after STACKLIGHT_LOG_LEVEL', () => {
    expect(resolveConfig({ service: 's' }, { LOG_LEVEL: 'WARN' }).logging.level).toBe('warn');
    expect(resolveConfig({ service: 's' }, { LOG_LEVEL: 'warning' }).logging.level).toBe('warn');
    expect(
      resolveConfig({ service: 's' }, { LOG_LEVEL: 'debug', STACKLIGHT_LOG_LEVEL: 'error' }).logging
        .level,
    ).toBe('error');
    expect(resolveConfig({ service: 's' }, {}).logging.level).toBe('info');
    expect(() => resolveConfig({ service: 's' }, { LOG_LEVEL: 'loud' })).toThrow(
      'stacklight: LOG_LEVEL must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent", got "loud"',
    );
  });

  it('reads service.version from the package.json nearest to the working directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'stacklight-version-'));
    try {
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'svc', version: '3.4.5' }));
      mkdirSync(join(root, 'src', 'deep'), { recursive: true });
      expect(
        appPackageVersion(join(root, 'src', 'deep'), join(root, 'src', 'deep', 'main.js')),
      ).toBe('3.4.5');
      writeFileSync(join(root, 'src', 'package.json'), JSON.stringify({ type: 'module' }));
      // The nearest package.json has no version: nothing further up is read.
      expect(
        appPackageVersion(join(root, 'src', 'deep'), join(root, 'src', 'deep', 'main.js')),
      ).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('puts service.instance.id, host.name and process attributes on the resource', async () => {
    const { attrs, version } = await resourceOfASpan('resource-check');
    expect(attrs['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(attrs['host.name']).toBe(hostname());
    expect(attrs['process.pid']).toBe(process.pid);
    expect(attrs['process.runtime.name']).toBe('nodejs');
    expect(attrs['service.version']).toBe(version);
  });

  it('puts the other OTEL_RESOURCE_ATTRIBUTES pairs on the resource, the service option over its service.name', async () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'service.name=from-variable,team=pay%20ments');
    const { attrs } = await resourceOfASpan('from-option');
    expect(attrs['service.name']).toBe('from-option');
    expect(attrs.team).toBe('pay ments');
    expect(attrs['telemetry.distro.name']).toBe('stacklight');
  });
});
