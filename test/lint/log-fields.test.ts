import { logFields } from '../../src/lint/log-fields.js';
import { jsTester, tsTester } from './rule-tester.js';

jsTester.run('log-fields', logFields, {
  valid: [
    "logger.info({ route: '/users/:id', status: 200, latency_ms: 12 }, 'done')",
    "telemetry.logger.error({ err, jobId: '42', attempt: 2 }, 'failed')",
    "req.log.warn({ userId: 'u_1', queue: 'q_import' }, 'slow')",
    "logger.info('plain message')",
    "logger.info(err, 'an error object')",
    "logger.child({ requestId: 'r1' })",
    // Not a logger.
    "console.info({ password: 'x' })",
    "cache.info({ email: 'a@b.example' })",
    {
      code: "logger.info({ tenant: 't1', orderTotal: 3 }, 'x')",
      options: [{ fields: ['tenant', 'orderTotal'] }],
    },
    {
      code: "app.audit.info({ route: '/x' })",
      options: [{ loggers: ['audit'] }],
    },
  ],
  invalid: [
    {
      code: "logger.info({ password: pw, apiKey: k, sessionCookie: c, tokenEnc: t }, 'login')",
      errors: [
        {
          message:
            'Field "password" holds a secret (the logger would write [REDACTED]): do not log it; log a non-secret reference instead (an id, or whether it was present).',
        },
        { messageId: 'secretKey', data: { key: 'apiKey' } },
        { messageId: 'secretKey', data: { key: 'sessionCookie' } },
        { messageId: 'secretKey', data: { key: 'tokenEnc' } },
      ],
    },
    {
      code: "telemetry.logger.warn({ email: user.email, userEmail: e }, 'x')",
      errors: [
        {
          message:
            'Field "email" holds an e-mail address (the logger would write [EMAIL]): log userId instead.',
        },
        { messageId: 'emailKey', data: { key: 'userEmail' } },
      ],
    },
    {
      code: "logger.info({ msg: 'sent to ada@example.com', symbol: 'Bearer abcdefghijklmnop' })",
      errors: [
        {
          message:
            'This value looks like an e-mail address (the logger would redact it): do not log it.',
        },
        { message: /^This value looks like an Authorization credential/ },
      ],
    },
    {
      code: "logger.info({ service: 'edge', level: 'x' }, 'x')",
      errors: [
        {
          message:
            'Field "service" is written by the logger itself (from init() options); remove it here.',
        },
        { messageId: 'reserved', data: { key: 'level' } },
      ],
    },
    {
      code: "req.log.info({ user_id: id, latencyMs: 3, orderTotal: 5 }, 'x')",
      errors: [
        {
          message:
            'Field "user_id" is not in the log schema, so the logger moves it under "extra" and counts a schema violation: the schema spells it "userId".',
          suggestions: [
            {
              messageId: 'rename',
              data: { name: 'userId' },
              output: "req.log.info({ userId: id, latencyMs: 3, orderTotal: 5 }, 'x')",
            },
          ],
        },
        {
          messageId: 'unknownField',
          suggestions: [
            {
              messageId: 'rename',
              data: { name: 'latency_ms' },
              output: "req.log.info({ user_id: id, latency_ms: 3, orderTotal: 5 }, 'x')",
            },
          ],
        },
        {
          message:
            'Field "orderTotal" is not in the log schema, so the logger moves it under "extra" and counts a schema violation: use a schema field, or declare it in logging.fields and in this rule\'s "fields" option.',
          suggestions: [],
        },
      ],
    },
    {
      code: "logger.info({ [k]: 1, ...rest }, 'x')",
      errors: [{ messageId: 'unresolvable' }, { messageId: 'unresolvable' }],
    },
    {
      code: 'logger.child({ secret: s })',
      errors: [{ messageId: 'secretKey' }],
    },
    {
      code: "logger.info({ customerRef: 'x' })",
      options: [{ secretKeys: ['customerRef'] }],
      errors: [{ messageId: 'secretKey' }],
    },
  ],
});

tsTester.run('log-fields (TypeScript)', logFields, {
  valid: ["logger.info({ route: '/x', status: 200 } satisfies LogFields, 'done')"],
  invalid: [
    {
      code: "this.logger.info({ authorization: header } as LogFields, 'x')",
      errors: [{ messageId: 'secretKey' }],
    },
  ],
});
