import { AssertionError } from 'node:assert';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertLogLines,
  assertMetric,
  assertOneServerSpan,
  assertTraceparent,
  createTestTelemetry,
  type TestTelemetry,
} from 'stacklight/testing';
import { buildOrdersService } from '../../examples/testing/orders-service.js';

/** The AssertionError a call throws (fails the test when it throws none). */
async function failure(fn: () => unknown): Promise<AssertionError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AssertionError);
    return err as AssertionError;
  }
  throw new Error('the assertion passed but should have failed');
}

describe('stacklight/testing with the orders example (vitest)', () => {
  let t: TestTelemetry;
  afterEach(async () => {
    await t.shutdown();
  });

  it('passes on what the service really does', async () => {
    t = createTestTelemetry({ service: 'orders' });
    const sent: Record<string, string>[] = [];
    const app = await buildOrdersService(t.telemetry, async (headers) => {
      sent.push(headers);
    });
    const res = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: { userId: 'u_1', channel: 'web' },
    });
    expect(res.statusCode).toBe(201);
    await app.close();

    expect(await assertMetric(t, 'orders_created_total', { channel: 'web' })).toBe(1);
    expect(
      await assertMetric(t, 'http_requests_total', { route: '/orders', method: 'POST', code: 201 }),
    ).toBe(1);
    expect(
      await assertMetric(t, 'http_request_duration_seconds', {
        route: '/orders',
        method: 'POST',
        code: '201',
      }),
    ).toBe(1);
    const lines = assertLogLines(t);
    expect(lines.some((l) => l.msg === 'order created' && l.userId === 'u_1')).toBe(true);
    const span = assertOneServerSpan(t, 'HTTP /orders');
    const tp = assertTraceparent(sent[0], { span });
    expect(tp.sampled).toBe(true);
  });

  it('fails with expected and actual when the service does something else', async () => {
    t = createTestTelemetry({ service: 'orders' });
    const app = await buildOrdersService(t.telemetry, async () => undefined);
    await app.inject({ method: 'POST', url: '/orders', payload: { userId: 'u', channel: 'app' } });
    await app.close();

    const wrongLabels = await failure(() =>
      assertMetric(t, 'orders_created_total', { channel: 'web' }),
    );
    expect(wrongLabels.message).toMatch(
      /^stacklight\/testing: metric "orders_created_total" has no series with exactly these labels/,
    );
    expect(wrongLabels.expected).toEqual({ channel: 'web' });
    expect(wrongLabels.actual).toEqual({ channel: 'app' });

    const extraLabel = await failure(() => assertMetric(t, 'orders_created_total', {}));
    expect(extraLabel.actual).toEqual({ channel: 'app' });

    const noMetric = await failure(() => assertMetric(t, 'orders_placed_total'));
    expect(noMetric.message).toContain('no metric named "orders_placed_total"');
    expect(noMetric.actual).toContain('orders_created_total');

    const span = await failure(() => assertOneServerSpan(t, 'HTTP /order'));
    expect(span.expected).toEqual(['HTTP /order']);
    expect(span.actual).toEqual(['HTTP /orders']);

    const other = await failure(() =>
      assertTraceparent(
        { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
      ),
    );
    expect(other.message).toMatch(/^stacklight\/testing: the traceparent belongs to another trace/);
    expect(other.actual).toBe('0af7651916cd43dd8448eb211c80319c');

    const none = await failure(() =>
      assertTraceparent({ 'content-type': 'x' }, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }),
    );
    expect(none.message).toMatch(/^stacklight\/testing: the carrier has no traceparent/);

    const noSpan = await failure(() => assertTraceparent({}));
    expect(noSpan.message).toContain('no active span to compare with');
  });

  it('finds secrets and schema breaks in captured log lines', async () => {
    t = createTestTelemetry({ service: 'orders' });
    t.telemetry.logger.info({ userId: 'u_1' }, 'fine');
    expect(assertLogLines(t)).toHaveLength(1);
    // A line written past the redactor (a raw stream a service also writes to) is caught.
    t.clear();
    t.telemetry.logger.info({ tenant: 't1' }, 'unknown field goes to extra');
    const raw = JSON.parse(t.logText().trim()) as Record<string, unknown>;
    expect(raw.extra).toEqual({ tenant: 't1' });
    assertLogLines(t);

    const leaky: TestTelemetry = {
      ...t,
      logLines: () => [
        {
          ts: '2026-01-01T00:00:00.000Z',
          level: 'info',
          service: 'orders',
          env: 'test',
          region: 'unknown',
          msg: 'mail sent to ada@example.com',
          status: 'ok',
          password: 'hunter2',
          tenant: 't1',
        },
      ],
    };
    const err = await failure(() => assertLogLines(leaky));
    expect(err.actual).toEqual([
      'line 1: field "status" is "ok", not an integer',
      'line 1: field "password" is not in the log schema',
      'line 1: field "tenant" is not in the log schema',
      'line 1: "msg" holds an e-mail address',
      'line 1: secret-like key "password" is not redacted',
    ]);
    const declared = await failure(() => assertLogLines(leaky, { fields: ['tenant'] }));
    expect(declared.actual).not.toContain('line 1: field "tenant" is not in the log schema');
  });

  it("accepts and type-checks the service's declared log fields (logging.fields)", async () => {
    const typed = createTestTelemetry({
      service: 'orders',
      logging: { fields: { tenant: 'string', cached: 'boolean' } },
    });
    t = typed as unknown as TestTelemetry;
    typed.telemetry.logger.info({ tenant: 't1', cached: true }, 'declared fields at top level');
    expect(assertLogLines(t)[0]).toMatchObject({ tenant: 't1', cached: true });
    const wrong: TestTelemetry = {
      ...t,
      logLines: () => [{ ...t.logLines()[0], cached: 'yes' }],
    };
    const err = await failure(() => assertLogLines(wrong));
    expect(err.actual).toEqual(['line 1: field "cached" is string, not a boolean']);
  });
});
