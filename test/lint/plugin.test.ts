import { Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
import stacklight, { configs, rules } from 'stacklight/eslint-plugin';

const bad = `
const orders = new client.Counter({ name: 'ordersCreated', help: 'x', labelNames: ['userId'] });
telemetry.metrics.httpRequestsTotal.inc({ path: '/login', method: 'GET', code: 200 });
logger.info({ email: user.email }, 'signed up');
`;

describe('stacklight/eslint-plugin', () => {
  it('exposes its four rules and a recommended flat config', () => {
    expect(Object.keys(rules).sort()).toEqual([
      'catalog-labels',
      'log-fields',
      'metric-name',
      'no-high-cardinality-labels',
    ]);
    expect(stacklight.configs.recommended).toBe(configs.recommended);
    expect(stacklight.meta?.name).toBe('stacklight/eslint-plugin');
  });

  it('reports every rule on a bad JavaScript file and nothing on a good one', () => {
    const linter = new Linter({ configType: 'flat' });
    const config = [...configs.recommended];
    const messages = linter.verify(bad, config, { filename: 'service.js' });
    expect(messages.map((m) => m.ruleId)).toEqual([
      'stacklight/metric-name',
      'stacklight/metric-name',
      'stacklight/metric-name',
      'stacklight/no-high-cardinality-labels',
      'stacklight/catalog-labels',
      'stacklight/log-fields',
    ]);
    expect(messages.every((m) => m.severity === 2)).toBe(true);
    const good = `
const orders = new client.Counter({ name: 'orders_created_total', help: 'Orders.', labelNames: ['channel'] });
telemetry.metrics.httpRequestsTotal.inc({ route: '/login', method: 'GET', code: 200 });
logger.info({ userId: user.id }, 'signed up');
`;
    expect(linter.verify(good, config, { filename: 'service.js' })).toEqual([]);
  });

  it('leaves catalog labels to the compiler in TypeScript files', () => {
    const linter = new Linter({ configType: 'flat' });
    const src = "telemetry.metrics.httpRequestsTotal.inc({ path: '/login' });";
    const config = [{ files: ['**/*.ts'] }, ...configs.recommended];
    expect(linter.verify(src, config, { filename: 'a.js' })).toHaveLength(1);
    expect(linter.verify(src, config, { filename: 'a.ts' })).toEqual([]);
  });
});
