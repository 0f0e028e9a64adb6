import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Logger } from 'pino';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { init, isStacklightError, type Telemetry } from '../../src/index.js';
import { buildLogJsonSchema } from '../../src/logging/json-schema.js';
import {
  DECLARED_FIELD_TYPES,
  type DeclaredFieldType,
  type LogFieldDeclarations,
} from '../../src/logging/schema.js';
import { createLogCapture } from '../helpers/log-capture.js';

const FIELDS = {
  tenant: 'string',
  attempt_no: 'integer',
  score: 'number',
  cached: 'boolean',
  plan: 'object',
  tags: 'array',
} as const;

let telemetry: Telemetry<LogFieldDeclarations> | undefined;
afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
});

function start<const F extends LogFieldDeclarations>(fields: F, redactKeys: string[] = []) {
  const logs = createLogCapture();
  const t = init({
    service: 'core',
    env: 'test',
    logging: { destination: logs.stream, fields, redactKeys },
    metrics: { defaultMetrics: false },
    tracing: { enabled: false },
    shutdown: { handleSignals: false, handleCrashes: false },
  });
  telemetry = t as unknown as Telemetry<LogFieldDeclarations>;
  /** Lines parsed, each valid against the service's own schema (not the bare one). */
  const lines = (): Record<string, unknown>[] => {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T/);
    const validate = ajv.compile(buildLogJsonSchema(fields));
    return logs
      .text()
      .split('\n')
      .filter((l) => l !== '')
      .map((raw) => {
        const line = JSON.parse(raw) as Record<string, unknown>;
        expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
        return line;
      });
  };
  const violations = async (): Promise<string> =>
    (await t.metricsText())
      .split('\n')
      .filter((l) => l.startsWith('stacklight_log_schema_violations_total{'))
      .join('\n');
  return { t, logs, lines, violations };
}

describe('logging.fields', () => {
  it('writes declared fields at the top level, with no violation counted', async () => {
    const { t, lines, violations } = start(FIELDS);
    const fields = {
      tenant: 'acme',
      attempt_no: 2,
      score: 0.5,
      cached: false,
      plan: { tier: 'pro' },
      tags: ['a', 'b'],
      status: 200,
    };
    t.logger.info(fields, 'quote served');
    t.logger.info({ tenant: 'globex' }, 'second');
    t.logger.info({ cached: true }, 'third');
    const [first, second, third] = lines();
    expect(first).toMatchObject({ ...fields, msg: 'quote served' });
    expect(first).not.toHaveProperty('extra');
    expect(second).toMatchObject({ tenant: 'globex' });
    expect(third).toMatchObject({ cached: true });
    expect(await violations()).toBe('');
  });

  it('moves a declared field of the wrong type under extra and counts it, never throwing', async () => {
    const { t, lines, violations } = start(FIELDS);
    const wrong = { tenant: 7, attempt_no: 1.5, cached: 'yes', plan: [1], tags: 'x' };
    expect(() => t.logger.info(wrong as object, 'wrong')).not.toThrow();
    const [line] = lines();
    expect(line).toMatchObject({ msg: 'wrong', extra: wrong });
    expect(line).not.toHaveProperty('tenant');
    expect(await violations()).toContain(
      'stacklight_log_schema_violations_total{kind="wrong_type",service="core"} 5',
    );
  });

  it('still moves undeclared keys under extra', async () => {
    const { t, lines, violations } = start({ tenant: 'string' });
    t.logger.info({ tenant: 'acme', region_hint: 'eu' }, 'x');
    expect(lines()[0]).toMatchObject({ tenant: 'acme', extra: { region_hint: 'eu' } });
    expect(await violations()).toContain('{kind="unknown_field",service="core"} 1');
  });

  it('redacts the values of declared fields', () => {
    const { t, lines, logs } = start(FIELDS);
    t.logger.info(
      { tenant: 'erin@example.com', plan: { password: 'hunter2', owner: 'bob@example.com' } },
      'x',
    );
    expect(lines()[0]).toMatchObject({
      tenant: '[EMAIL]',
      plan: { password: '[REDACTED]', owner: '[EMAIL]' },
    });
    expect(logs.text()).not.toContain('example.com');
    expect(logs.text()).not.toContain('hunter2');
  });

  it('applies to child bindings as to a line', () => {
    const { t, lines } = start(FIELDS);
    t.logger.child({ tenant: 'acme' }).info({ cached: true }, 'from child');
    const [line] = lines();
    expect(line).toMatchObject({ tenant: 'acme', cached: true, msg: 'from child' });
    expect(line).not.toHaveProperty('extra');
  });

  it.each([
    [
      { status: 'string' },
      'logging.fields must be an object of names that are not fields of the log schema',
    ],
    [{ error: 'object' }, 'not fields of the log schema'],
    [{ err: 'object' }, 'not fields of the log schema'],
    [{ sessionToken: 'string' }, 'names the redactor does not treat as secrets'],
    [{ apiKeyEnc: 'string' }, 'names the redactor does not treat as secrets'],
    [{ userEmail: 'string' }, 'do not name an e-mail address'],
    [{ mail: 'string' }, 'do not name an e-mail address'],
    [{ billingEmail: 'string' }, 'do not name an e-mail address'],
    [{ billing_email_address: 'string' }, 'do not name an e-mail address'],
    [{ 'a.b': 'string' }, 'field names of letters, digits'],
    [
      { tenant: 'date' },
      'logging.fields.tenant must be one of "string", "integer", "number", "boolean", "object", "array", got "date"',
    ],
  ])('rejects %j at init() with a ConfigError', (fields, message) => {
    let error: unknown;
    try {
      start(fields as unknown as LogFieldDeclarations);
    } catch (err) {
      error = err;
    }
    expect(isStacklightError(error)).toBe(true);
    expect((error as Error).message).toContain(message);
  });

  it("rejects a name of the service's own redactKeys", () => {
    expect(() => start({ tenant: 'string' }, ['tenant'])).toThrow(
      /logging\.fields must be an object of names the redactor does not treat as secrets.*got "tenant"/,
    );
  });

  it('rejects a declaration that is not an object', () => {
    expect(() => start(['tenant'] as unknown as LogFieldDeclarations)).toThrow(
      'logging.fields must be an object of field names to types',
    );
  });

  it('lists every declarable type in DECLARED_FIELD_TYPES', () => {
    expectTypeOf<(typeof DECLARED_FIELD_TYPES)[number]>().toEqualTypeOf<DeclaredFieldType>();
    expect(DECLARED_FIELD_TYPES).toHaveLength(6);
  });

  it('types the logger by the declaration (checked by typecheck)', () => {
    const { t } = start({ tenant: 'string', cached: 'boolean' } as const);
    t.logger.info({ tenant: 'a', cached: true }, 'fine');
    // @ts-expect-error tenant is declared a string
    t.logger.info({ tenant: 1 }, 'x');
    // @ts-expect-error cached is declared a boolean
    t.logger.warn({ cached: 'yes' });
    // @ts-expect-error status is an integer in the schema
    t.logger.error({ status: '500' }, 'x');
    // @ts-expect-error child bindings are checked too
    t.logger.child({ tenant: 2 });
    t.logger.child({ tenant: 'b' }).info({ cached: false }, 'child');
    t.logger.error(new Error('boom'), 'an Error as the object');
    t.logger.info('plain %s', 'message');
    try {
      throw new Error('caught');
    } catch (err) {
      t.logger.error(err, 'a caught value of type unknown');
      t.logger.error({ err, tenant: 'a' }, 'with fields');
    }
    // A service that declares nothing: the schema's fields are checked, others compile.
    const bare = (): void => {
      const b = null as unknown as Telemetry;
      // @ts-expect-error status is an integer in the schema
      b.logger.info({ status: '200' }, 'x');
      b.logger.info({ status: 200, tenant: 1 }, 'undeclared keys compile (moved under extra)');
      const asPino: Logger = t.logger;
      asPino.info({ anything: 1 });
    };
    expect(typeof bare).toBe('function');
  });
});
