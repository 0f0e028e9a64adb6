import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { resolveConfig } from '../config/resolve.js';
import { SETTINGS } from '../config/settings.js';
import { apiCopies, describeCopy } from '../tracing/otel-api.js';
import { SDK_VERSION } from '../version.js';

const PEERS = ['@sentry/node', 'fastify', 'express', 'bullmq', '@opentelemetry/sdk-node'] as const;
const SECRET_OPTIONS = new Set(['sentry.dsn', 'metrics.token', 'tracing.headers']);

function peerVersion(name: string, cwd: string): string | undefined {
  try {
    const main = createRequire(join(cwd, 'package.json')).resolve(name);
    const marker = `node_modules/${name}/`;
    const dir = main.slice(0, main.lastIndexOf(marker) + marker.length);
    const file = join(dir, 'package.json');
    return existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
      : 'installed';
  } catch {
    return undefined;
  }
}

function sourceOf(setting: (typeof SETTINGS)[number], env: NodeJS.ProcessEnv): string {
  for (const s of setting.standard ?? []) {
    const raw = 'read' in s && s.read ? s.read(env) : env[s.name];
    if (raw !== undefined && raw.trim() !== '') return s.name;
  }
  if (setting.stacklight !== undefined && (env[setting.stacklight] ?? '').trim() !== '')
    return setting.stacklight;
  return 'default';
}

function shown(option: string, value: unknown): string {
  if (value === undefined) return '(unset)';
  if (SECRET_OPTIONS.has(option)) {
    return typeof value === 'object' && value !== null
      ? `{${Object.keys(value).join(', ')}} (values hidden)`
      : '(set, hidden)';
  }
  return JSON.stringify(value);
}

async function endpointAnswers(url: string): Promise<string> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array(0),
      signal: AbortSignal.timeout(2000),
    });
    return `answers (HTTP ${res.status})`;
  } catch (err) {
    return `does not answer (${(err as Error).message})`;
  }
}

/**
 * `stacklight doctor`: the configuration this environment resolves to and
 * where each value comes from (environment variable or default; options
 * passed to `init()` in code are not visible here), the optional peers and
 * their versions, the copies of the OpenTelemetry API, the OpenTelemetry and
 * Sentry modes, and whether the OTLP endpoint answers. Secrets are hidden.
 */
export async function run(argv: readonly string[]): Promise<number> {
  const env = process.env;
  const cwd = process.cwd();
  const out: string[] = [`stacklight ${SDK_VERSION} doctor`, ''];
  let config;
  try {
    config = resolveConfig(
      { service: env.OTEL_SERVICE_NAME ?? env.STACKLIGHT_SERVICE ?? '(from code)' },
      env,
    );
  } catch (err) {
    process.stdout.write(`${out.join('\n')}configuration: ${(err as Error).message}\n`);
    return 1;
  }
  out.push('configuration (option · value · from):');
  const flat = config as unknown as Record<string, Record<string, unknown> | unknown>;
  for (const setting of SETTINGS) {
    const [section, key] = setting.option.split('.');
    const value =
      key === undefined
        ? flat[section!]
        : (flat[section!] as Record<string, unknown> | undefined)?.[key];
    out.push(`  ${setting.option} · ${shown(setting.option, value)} · ${sourceOf(setting, env)}`);
  }
  out.push('', 'optional peers:');
  for (const name of PEERS) out.push(`  ${name}: ${peerVersion(name, cwd) ?? 'not installed'}`);
  out.push('', '@opentelemetry/api copies:');
  for (const copy of apiCopies(cwd)) out.push(`  ${describeCopy(copy)}`);
  out.push(
    '',
    `OpenTelemetry mode: ${config.tracing.provider} (auto: joins a provider registered before init())`,
  );
  const sentryPeer = peerVersion('@sentry/node', cwd);
  out.push(
    `Sentry: ${
      config.sentry.dsn === undefined
        ? 'no DSN (joins a client the service creates itself, if any)'
        : sentryPeer === undefined
          ? 'DSN set but @sentry/node is NOT installed: init() will throw'
          : `DSN set, @sentry/node ${sentryPeer}`
    }`,
  );
  if (
    config.tracing.enabled &&
    config.tracing.exporter.includes('otlp') &&
    !argv.includes('--offline')
  ) {
    out.push(
      `OTLP endpoint ${config.tracing.endpoint}: ${await endpointAnswers(config.tracing.endpoint)}`,
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
