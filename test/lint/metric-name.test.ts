import { metricName } from '../../src/lint/metric-name.js';
import { jsTester, tsTester } from './rule-tester.js';

const violation = (rule: string, message: string) => ({
  messageId: 'violation',
  data: { rule, message },
});

jsTester.run('metric-name', metricName, {
  valid: [
    "new Counter({ name: 'orders_created_total', help: 'x', labelNames: ['channel'] })",
    "new client.Histogram({ name: 'render_duration_seconds', help: 'x', buckets: [0.1, 1] })",
    "new Gauge({ name: 'queue_depth', help: 'x', labelNames: ['queue', 'state'] })",
    "telemetry.defineMetric({ name: 'payload_size_bytes', type: 'histogram', help: 'Sizes.', labelNames: [], buckets: [1, 2] })",
    // The spec's _ms names are the spec's.
    "new Histogram({ name: 'job_duration_ms', help: 'x', labelNames: ['queue', 'job', 'status'] })",
    // Not a metric definition.
    "new Map({ name: 'ordersCreated' })",
    "defineSomethingElse({ name: 'x-y', type: 'counter' })",
    {
      code: "myDefine({ name: 'orders_total', type: 'counter', help: 'x' })",
      options: [{ definers: ['myDefine'] }],
    },
  ],
  invalid: [
    {
      // Invalid grammar never reached an exposition: fixed in place.
      code: "new Counter({ name: 'orders-created', help: 'x' })",
      output: "new Counter({ name: 'orders_created_total', help: 'x' })",
      errors: [
        {
          ...violation(
            'name-grammar',
            'metric name "orders-created" is not a valid Prometheus name: use letters, digits and _ only, e.g. "orders_created"',
          ),
          suggestions: [
            {
              messageId: 'rename',
              data: { name: 'orders_created_total' },
              output: "new Counter({ name: 'orders_created_total', help: 'x' })",
            },
          ],
        },
      ],
    },
    {
      code: 'telemetry.defineMetric({ name: "ordersCreated", type: "counter", help: "x" })',
      output: null,
      errors: [
        {
          ...violation(
            'name-snake-case',
            'metric name "ordersCreated" is not lowercase snake_case: write "orders_created"',
          ),
          suggestions: [
            {
              messageId: 'rename',
              data: { name: 'orders_created_total' },
              output:
                'telemetry.defineMetric({ name: "orders_created_total", type: "counter", help: "x" })',
            },
          ],
        },
        {
          ...violation(
            'counter-total',
            'counter "ordersCreated" must end in _total: write "orders_created_total"',
          ),
          suggestions: [],
        },
      ],
    },
    {
      code: "new Gauge({ name: 'open_orders_total', help: 'x' })",
      output: null,
      errors: [
        {
          messageId: 'violation',
          suggestions: [
            {
              messageId: 'rename',
              data: { name: 'open_orders' },
              output: "new Gauge({ name: 'open_orders', help: 'x' })",
            },
          ],
        },
      ],
    },
    {
      code: "new Histogram({ name: 'render_time', help: 'x' })",
      output: null,
      errors: [
        { messageId: 'violation', data: { rule: 'unit-suffix', message: /./ as never } },
      ].map(() => ({
        message:
          'histogram "render_time" does not end in a unit: append the base unit of what it measures, e.g. "render_time_seconds" or "render_time_bytes" (allowed: _seconds, _bytes, _meters, _grams, _joules, _volts, _amperes, _celsius, _kelvin, _ratio) [unit-suffix]',
        suggestions: [],
      })),
    },
    {
      code: "new Histogram({ name: 'checkout_duration_ms', help: 'x' })",
      output: null,
      errors: [
        {
          message:
            'metric name "checkout_duration_ms" abbreviates a unit (_ms): spell out the base unit and record values in it, e.g. "checkout_duration_seconds" [base-unit]',
        },
      ],
    },
    {
      code: "new Counter({ name: 'x_total', help: 'x', labelNames: ['route', 'userTier', 'le', 'route'] })",
      output:
        "new Counter({ name: 'x_total', help: 'x', labelNames: ['route', 'userTier', 'le'] })",
      errors: [
        {
          message:
            'label name "userTier" is not lowercase snake_case: write "user_tier" [label-snake-case]',
          suggestions: [
            {
              messageId: 'rename',
              data: { name: 'user_tier' },
              output:
                "new Counter({ name: 'x_total', help: 'x', labelNames: ['route', 'user_tier', 'le', 'route'] })",
            },
          ],
        },
        { message: /^label "le" is reserved: the exposition writes it on histogram buckets/ },
        { message: 'label "route" is listed twice: list it once [duplicate-label]' },
      ],
    },
    {
      code: "const n = 'orders'; new Counter({ name: n + '_total', help: 'x', labelNames: LABELS })",
      output: null,
      errors: [{ messageId: 'unresolvable' }, { messageId: 'unresolvableLabels' }],
    },
    {
      code: "new client.Gauge({ name: 'http_requests_total', help: 'x', labelNames: ['path'] })",
      output: null,
      errors: [
        {
          message: /^gauge "http_requests_total" ends in _total/,
          suggestions: [
            {
              messageId: 'rename',
              data: { name: 'http_requests' },
              output:
                "new client.Gauge({ name: 'http_requests', help: 'x', labelNames: ['path'] })",
            },
          ],
        },
        {
          messageId: 'catalogType',
          data: { name: 'http_requests_total', expected: 'counter', actual: 'gauge' },
        },
        {
          messageId: 'catalogLabels',
          data: { name: 'http_requests_total', expected: 'route, method, code', actual: 'path' },
        },
      ],
    },
    {
      code: "telemetry.defineMetric({ name: 'queue_depth', type: 'gauge', help: 'x', labelNames: ['queue', 'state'] })",
      output: null,
      errors: [
        {
          message:
            '"queue_depth" is already defined by stacklight\'s catalog: use telemetry.metrics.queueDepth instead of defining it again.',
        },
      ],
    },
    {
      code: "defineMetric({ name: 'rtt_seconds', type: 'summary', help: '', buckets: [1] })",
      output: null,
      errors: [
        { message: /^type 'summary' is not supported: use type 'histogram'/ },
        { message: /^help is empty/ },
      ],
    },
    {
      code: "defineMetric({ name: 'rtt_seconds', type: 'histogram', help: 'x', buckets: [0.5, 0.1, Infinity] })",
      output: null,
      errors: [{ message: /^buckets must be ascending and unique: 0.5 is followed by 0.1/ }],
    },
  ],
});

tsTester.run('metric-name (TypeScript)', metricName, {
  valid: [
    "telemetry.defineMetric({ name: 'orders_created_total', type: 'counter', help: 'x', labelNames: ['channel'] } as const)",
  ],
  invalid: [
    {
      code: "telemetry.defineMetric({ name: 'orders_placed' as const, type: 'counter', help: 'x', labelNames: [] } satisfies MetricDefinition)",
      output: null,
      errors: [
        {
          messageId: 'violation',
          suggestions: [
            {
              messageId: 'rename',
              data: { name: 'orders_placed_total' },
              output:
                "telemetry.defineMetric({ name: 'orders_placed_total' as const, type: 'counter', help: 'x', labelNames: [] } satisfies MetricDefinition)",
            },
          ],
        },
      ],
    },
  ],
});
