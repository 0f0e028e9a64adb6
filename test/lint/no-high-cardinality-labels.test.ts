import { noHighCardinalityLabels } from '../../src/lint/no-high-cardinality-labels.js';
import { jsTester } from './rule-tester.js';

jsTester.run('no-high-cardinality-labels', noHighCardinalityLabels, {
  valid: [
    "new Counter({ name: 'logins_total', help: 'x', labelNames: ['route', 'method', 'code'] })",
    "telemetry.defineMetric({ name: 'orders_total', type: 'counter', help: 'x', labelNames: ['channel'] })",
    // Not a metric definition: any key.
    'cache.set({ userId: 1 })',
    {
      code: "new Counter({ name: 'hits_total', help: 'x', labelNames: ['path'] })",
      options: [{ allow: ['path'] }],
    },
  ],
  invalid: [
    {
      code: "new Counter({ name: 'logins_total', help: 'x', labelNames: ['userId', 'user_id', 'USER-ID'] })",
      errors: [
        {
          message:
            'Label "userId" holds identifiers or free text, one series per value (memory and cost grow without bound): keep it in log lines or span attributes, and label by a bounded category instead.',
        },
        { messageId: 'highCardinality' },
        { messageId: 'highCardinality' },
      ],
    },
    {
      code: "telemetry.defineMetric({ name: 'hits_total', type: 'counter', help: 'x', labelNames: ['path', 'email', 'traceId', 'url', 'ip', 'requestId'] })",
      errors: [
        {
          message:
            /^Label "path" .*: label by the route template \(route="\/users\/:id"\), never the raw path\.$/,
        },
        { message: /^Label "email" .*never put an e-mail address in a metric/ },
        { message: /^Label "traceId"/ },
        { message: /^Label "url" .*never the URL\.$/ },
        { message: /^Label "ip"/ },
        { message: /^Label "requestId"/ },
      ],
    },
    {
      code: "new client.Histogram({ name: 'x_seconds', help: 'x', labelNames: ['tenant', 'route'] })",
      options: [{ labels: ['tenant'] }],
      errors: [{ message: /^Label "tenant"/ }],
    },
  ],
});
