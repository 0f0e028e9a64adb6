/**
 * A small orders service used by the examples of `stacklight/testing`: one
 * route that counts a metric of its own, logs a line and calls a payments
 * service with the trace context in its headers.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { injectContext, type Telemetry } from 'stacklight';
import { stacklightPlugin } from 'stacklight/fastify';

/** How the service reaches the payments service (a fake in tests). */
export type SendPayment = (headers: Record<string, string>, body: string) => Promise<void>;

/** Builds the app; the caller owns `telemetry` and closes both. */
export async function buildOrdersService(
  telemetry: Telemetry,
  sendPayment: SendPayment,
): Promise<FastifyInstance> {
  const ordersCreated = telemetry.defineMetric({
    name: 'orders_created_total',
    type: 'counter',
    help: 'Orders created, by sales channel.',
    labelNames: ['channel'],
  } as const);

  const app = Fastify();
  await app.register(stacklightPlugin, { telemetry });
  app.post<{ Body: { userId: string; channel: 'web' | 'app' } }>('/orders', async (req, reply) => {
    const { userId, channel } = req.body;
    ordersCreated.inc({ channel });
    const headers = injectContext({ 'content-type': 'application/json' });
    await sendPayment(headers, JSON.stringify({ userId }));
    telemetry.logger.info({ userId }, 'order created');
    return reply.code(201).send({ ok: true });
  });
  return app;
}
