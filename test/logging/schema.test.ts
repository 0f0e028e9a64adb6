import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { TelemetryContext } from '../../src/context.js';
import {
  buildLogJsonSchema,
  CONTEXT_FIELDS,
  LOG_FIELDS,
  type ContextFieldName,
  type LogFields,
} from '../../src/logging/index.js';
import { expectValidLogLine, logLineValidator } from '../helpers/log-capture.js';

const SCHEMA_FILE = new URL('../../src/logging/log-schema.json', import.meta.url);

describe('log schema', () => {
  it('the checked-in log-schema.json equals buildLogJsonSchema()', () => {
    // Regenerate with: STACKLIGHT_UPDATE_LOG_SCHEMA=1 npx vitest run test/logging/schema.test.ts
    // (then `npx prettier --write src/logging/log-schema.json`).
    if (process.env['STACKLIGHT_UPDATE_LOG_SCHEMA'] === '1') {
      writeFileSync(SCHEMA_FILE, `${JSON.stringify(buildLogJsonSchema(), null, 2)}\n`);
    }
    const onDisk: unknown = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8'));
    expect(onDisk).toEqual(buildLogJsonSchema());
  });

  it('is draft 2020-12, compiles under ajv strict mode and nests error.*', () => {
    const schema = buildLogJsonSchema() as {
      $schema: string;
      required: string[];
      properties: Record<string, unknown>;
      $defs: { error: { properties: Record<string, unknown>; required: string[] } };
    };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['ts', 'level', 'service', 'env', 'region']);
    expect(schema.properties['error']).toMatchObject({ $ref: '#/$defs/error' });
    expect(Object.keys(schema.$defs.error.properties)).toEqual([
      'type',
      'code',
      'message',
      'stack',
      'cause',
      'errors',
      'extra',
    ]);
    expect(logLineValidator()).toBeTypeOf('function');
  });

  it('lists every field of spec 09 with a description', () => {
    const spec = [
      'ts',
      'level',
      'service',
      'env',
      'region',
      'requestId',
      'userId',
      'route',
      'method',
      'status',
      'latency_ms',
      'queue',
      'job',
      'jobId',
      'attempt',
      'eventId',
      'broker',
      'symbol',
      'error.code',
      'error.message',
      'error.stack',
      'msg',
      'traceId',
      'spanId',
    ];
    for (const name of spec) expect(LOG_FIELDS, name).toHaveProperty([name]);
    for (const f of Object.values(LOG_FIELDS)) expect(f.description.length).toBeGreaterThan(5);
  });

  it('accepts a full line and rejects unknown keys and wrong types', () => {
    const line = {
      ts: '2026-11-26T16:40:00.000Z',
      level: 'info',
      service: 'edge',
      env: 'prod',
      region: 'eu',
      requestId: 'r',
      status: 200,
      latency_ms: 1.5,
      attempt: 1,
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      error: {
        type: 'Error',
        code: 'E',
        message: 'm',
        cause: { message: 'c' },
        errors: [{ message: 'e' }],
      },
      extra: { anything: [1, { x: 2 }] },
      msg: 'done',
    };
    expectValidLogLine(line);
    const validate = logLineValidator();
    expect(validate({ ...line, foo: 1 })).toBe(false);
    expect(validate({ ...line, status: '200' })).toBe(false);
    expect(validate({ ...line, traceId: 'abc' })).toBe(false);
    expect(validate({ ...line, error: { code: 'E' } })).toBe(false);
  });

  it('derives LogFields, the caller-settable subset, from the table', () => {
    expectTypeOf<LogFields>().toEqualTypeOf<
      {
        msg?: string;
        requestId?: string;
        userId?: string;
        route?: string;
        method?: string;
        status?: number;
        latency_ms?: number;
        queue?: string;
        job?: string;
        jobId?: string;
        attempt?: number;
        eventId?: string;
        broker?: string;
        symbol?: string;
        traceId?: string;
        spanId?: string;
        extra?: Record<string, unknown>;
      } & { err?: unknown; error?: unknown }
    >();
    // @ts-expect-error -- ts is written by the logger, not settable.
    const reserved: LogFields = { ts: 'x' };
    expect(reserved).toBeDefined();
  });

  it('its context fields are exactly the fields of TelemetryContext', () => {
    expectTypeOf<ContextFieldName>().toEqualTypeOf<keyof TelemetryContext>();
    expect([...CONTEXT_FIELDS].sort()).toEqual(
      [
        'requestId',
        'userId',
        'route',
        'method',
        'queue',
        'job',
        'jobId',
        'attempt',
        'eventId',
      ].sort(),
    );
  });
});
