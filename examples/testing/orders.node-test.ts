/**
 * The orders service tested with Node's own test runner and stacklight/testing:
 *
 *   node --import tsx --test examples/testing/orders.node-test.ts
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import {
  assertLogLines,
  assertMetric,
  assertOneServerSpan,
  assertTraceparent,
  createTestTelemetry,
  type TestTelemetry,
} from 'stacklight/testing';
import { buildOrdersService } from './orders-service.js';

let t: TestTelemetry | undefined;
afterEach(async () => {
  await t?.shutdown();
});

test('an order is counted, logged without secrets, traced, and its payment call carries the trace', async () => {
  t = createTestTelemetry({ service: 'orders' });
  const sent: Record<string, string>[] = [];
  const app = await buildOrdersService(t.telemetry, async (headers) => {
    sent.push(headers);
  });
  const res = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: { userId: 'u_7', channel: 'app' },
  });
  await app.close();
  assert.equal(res.statusCode, 201);

  assert.equal(await assertMetric(t, 'orders_created_total', { channel: 'app' }), 1);
  await assertMetric(t, 'http_requests_total', { route: '/orders', method: 'POST', code: 201 });
  assertLogLines(t);
  const span = assertOneServerSpan(t, 'HTTP /orders');
  assertTraceparent(sent[0], { span });
});

test('a wrong expectation fails with expected and actual', async () => {
  t = createTestTelemetry({ service: 'orders' });
  const app = await buildOrdersService(t.telemetry, async () => undefined);
  await app.inject({ method: 'POST', url: '/orders', payload: { userId: 'u', channel: 'web' } });
  await app.close();
  await assert.rejects(assertMetric(t, 'orders_created_total', { channel: 'app' }), {
    name: 'AssertionError',
    expected: { channel: 'app' },
    actual: { channel: 'web' },
  });
});
