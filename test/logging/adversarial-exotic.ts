import type { AdversarialCase } from './adversarial.js';

/** Errors and exotic values. */
export const EXOTIC_CASES: AdversarialCase[] = [
  {
    name: 'e-mail in an error message',
    log: (l) => l.error(new Error('no account for kim.e1@example.com')),
    secrets: ['kim.e1@example.com'],
    keep: ['no account for'],
  },
  {
    name: 'e-mail in an error stack',
    setup: { stackTraces: true },
    log: (l) => {
      const e = new Error('boom-e2');
      e.stack = 'Error: boom-e2\n    at /home/lee.e2@example.com/app.js:1:1';
      l.error({ err: e });
    },
    secrets: ['lee.e2@example.com'],
    keep: ['boom-e2', 'app.js:1:1'],
  },
  {
    name: 'secret in a cause message',
    log: (l) =>
      l.error({
        err: new Error('outer-e3', { cause: new Error('db url postgres://u:e3secret@pg/db') }),
      }),
    secrets: ['e3secret'],
    keep: ['outer-e3', 'pg/db'],
  },
  {
    name: 'AggregateError inner e-mails',
    log: (l) =>
      l.error(new AggregateError([new Error('a mo.e4@example.com'), new Error('b-e4')], 'many-e4')),
    secrets: ['mo.e4@example.com'],
    keep: ['many-e4', 'b-e4'],
  },
  {
    name: 'HTTP client error with config headers',
    log: (l) =>
      l.error({
        err: Object.assign(new Error('Request failed-e5'), {
          config: { headers: { Authorization: 'Tok-e5-secret', 'X-Trace': 'tr-e5' } },
        }),
      }),
    secrets: ['Tok-e5-secret'],
    keep: ['Request failed-e5', 'tr-e5'],
  },
  {
    name: 'error given as plain object with a cookie',
    log: (l) => l.warn({ error: { code: 'E_COOKIE', message: 'bad', cookie: 'sid=e6secret' } }),
    secrets: ['e6secret'],
    keep: ['E_COOKIE'],
  },
  {
    name: 'thrown string with an e-mail',
    log: (l) => l.error({ err: 'failed for ned.e7@example.com' }),
    secrets: ['ned.e7@example.com'],
    keep: ['failed for'],
  },
  {
    name: 'Error nested in an unknown field',
    log: (l) => l.warn({ details: { failure: new Error('ola.e8@example.com missing') } }),
    secrets: ['ola.e8@example.com'],
    keep: ['missing'],
  },
  {
    name: 'cycle next to a password',
    log: (l) => {
      const o: Record<string, unknown> = { name: 'cyc-1', password: 'cy1secret' };
      o['self'] = o;
      l.info({ o });
    },
    secrets: ['cy1secret'],
    keep: ['cyc-1', '[Circular]'],
  },
  {
    name: 'throwing getter next to a token',
    log: (l) =>
      l.info({
        o: {
          get boom(): string {
            throw new Error('getter');
          },
          token: 'gt1secret',
          ok: 'gt-ok',
        },
      }),
    secrets: ['gt1secret'],
    keep: ['gt-ok', '[GetterThrew]'],
  },
  {
    name: 'toJSON returning secrets',
    log: (l) => l.info({ o: { toJSON: () => ({ password: 'tj1secret', kind: 'custom-tj' }) } }),
    secrets: ['tj1secret'],
    keep: ['custom-tj'],
  },
  {
    name: 'throwing toJSON next to an e-mail',
    log: (l) =>
      l.info({
        bad: {
          toJSON() {
            throw new Error('x');
          },
        },
        who: 'pat.tj2@example.com',
        what: 'tj2-ok',
      }),
    secrets: ['pat.tj2@example.com'],
    keep: ['tj2-ok', '[Unserializable]'],
  },
  {
    name: 'Buffer with secret bytes',
    log: (l) => l.info({ body: Buffer.from('password=bf1secret'), len: 'bf-len' }),
    secrets: ['bf1secret', 'cGFzc3dvcmQ'],
    keep: ['[Buffer 18 bytes]', 'bf-len'],
  },
  {
    name: 'Uint8Array with secret bytes',
    log: (l) => l.info({ body: new TextEncoder().encode('token=u8secret') }),
    secrets: ['u8secret'],
    keep: ['[Uint8Array 14 bytes]'],
  },
  {
    name: 'secret below maxDepth',
    log: (l) => {
      let o: Record<string, unknown> = { password: 'md1secret' };
      for (let i = 0; i < 15; i++) o = { n: o };
      l.info({ o, top: 'md-top' });
    },
    secrets: ['md1secret'],
    keep: ['md-top', '[MaxDepth]'],
  },
  {
    name: 'huge object with a secret at the end',
    log: (l) => {
      const o: Record<string, unknown> = {};
      for (let i = 0; i < 5000; i++) o[`k${i}`] = i;
      o['api_key'] = 'hn1secret';
      o['zz'] = 'Bearer hn2secretTokenValue';
      l.info({ o });
    },
    secrets: ['hn1secret', 'hn2secretTokenValue'],
    keep: ['k0', '[MaxNodes]'],
  },
  {
    name: 'BigInt and Symbol next to a secret',
    log: (l) => l.info({ n: 12345678901234567890n, s: Symbol('sym-1'), jwt: 'bg1secret' }),
    secrets: ['bg1secret'],
    keep: ['12345678901234567890', 'Symbol(sym-1)'],
  },
  {
    name: 'function value next to a secret',
    log: (l) => l.info({ fn: () => 'x', secret: 'fn1secret', kept: 'fn-ok' }),
    secrets: ['fn1secret'],
    keep: ['fn-ok'],
  },
  {
    name: 'Map with a redis URL value',
    log: (l) => l.info({ conns: new Map([['cache', 'redis://default:mp1secret@redis:6379']]) }),
    secrets: ['mp1secret'],
    keep: ['redis:6379'],
  },
  {
    name: '__proto__ key with a secret',
    log: (l) => l.info(JSON.parse('{"__proto__":{"password":"pr1secret","ok":"pr-ok"}}') as object),
    secrets: ['pr1secret'],
    keep: ['pr-ok'],
  },
];
