import { catalogLabels } from '../../src/lint/catalog-labels.js';
import { jsTester } from './rule-tester.js';

jsTester.run('catalog-labels', catalogLabels, {
  valid: [
    "telemetry.metrics.httpRequestsTotal.inc({ route: '/login', method: 'POST', code: 200 })",
    "const { metrics } = telemetry; metrics.vendor429Total.inc({ vendor: 'binance' }, 2)",
    'telemetry.metrics.wsActiveConnections.inc()',
    'telemetry.metrics.wsActiveConnections.set(3)',
    "telemetry.metrics.jobDurationMs.observe({ queue: 'q', job: 'import', status: 'ok' }, 12)",
    "telemetry.selfMetrics.internalErrorsTotal.inc({ component: 'x' })",
    'telemetry.metrics.httpRequestsTotal.read()',
    // Not a catalog instrument.
    "telemetry.metrics.somethingElse.inc({ path: '/x' })",
    "counter.inc({ path: '/x' })",
  ],
  invalid: [
    {
      code: "telemetry.metrics.httpRequestsTotal.inc({ path: '/login', method: 'POST', code: 200 })",
      errors: [
        {
          message:
            'http_requests_total takes labels [route, method, code]: missing route; unknown path. Such an observation is dropped at run time.',
          suggestions: [
            {
              messageId: 'rename',
              data: { from: 'path', to: 'route' },
              output:
                "telemetry.metrics.httpRequestsTotal.inc({ route: '/login', method: 'POST', code: 200 })",
            },
          ],
        },
      ],
    },
    {
      code: "const path = '/x'; telemetry.metrics.httpRequestsTotal.inc({ path, method: 'GET', code: 200 })",
      errors: [
        {
          messageId: 'wrongLabels',
          suggestions: [
            {
              messageId: 'rename',
              data: { from: 'path', to: 'route' },
              output:
                "const path = '/x'; telemetry.metrics.httpRequestsTotal.inc({ route: path, method: 'GET', code: 200 })",
            },
          ],
        },
      ],
    },
    {
      code: "telemetry.metrics.httpRequestsTotal.inc({ route: '/a' })",
      errors: [{ message: /missing method, code\./ }],
    },
    {
      code: 'telemetry.metrics.httpRequestsTotal.inc()',
      errors: [{ message: /no label object \(missing route, method, code\)/ }],
    },
    {
      code: "telemetry.metrics.wsActiveConnections.set({ room: 'a' }, 1)",
      errors: [
        {
          message: 'ws_active_connections takes no labels: call set(value) without a label object.',
        },
      ],
    },
    {
      code: 'telemetry.metrics.queueDepth.set(labels, 3); telemetry.metrics.queueDepth.set({ ...labels }, 3)',
      errors: [
        {
          message:
            "The label object of queue_depth is built at run time, so it cannot be checked against the catalog's labels [queue, state]: write it as an object literal.",
        },
        { messageId: 'unresolvable' },
      ],
    },
  ],
});
