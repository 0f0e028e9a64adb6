import type { AdversarialCase } from './adversarial.js';

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1XzQyIiwiZW1haWwiOiJ4QHkueiJ9.c2lnbmF0dXJlX2FiY0RFRjEyMw';
const BASIC = Buffer.from('svc-user:basicPa55word').toString('base64');

/** Secrets inside strings: messages, URLs, tokens, headers. */
export const STRING_CASES: AdversarialCase[] = [
  {
    name: 'e-mail in the message',
    log: (l) => l.info('user alice.m1@example.com signed in'),
    secrets: ['alice.m1@example.com'],
    keep: ['signed in'],
  },
  {
    name: 'e-mail in a %s argument',
    log: (l) => l.info('user %s signed in', 'bob.m2@example.org'),
    secrets: ['bob.m2@example.org'],
    keep: ['signed in'],
  },
  {
    name: 'e-mail in a %o argument',
    log: (l) => l.info('payload %o', { email: 'carol.m3@example.net', plan: 'pro-m3' }),
    secrets: ['carol.m3@example.net'],
    keep: ['pro-m3'],
  },
  {
    name: 'password in a %j argument',
    log: (l) => l.info('body %j', { password: 'pwj1secret', user: 'u-j1' }),
    secrets: ['pwj1secret'],
    keep: ['u-j1'],
  },
  {
    name: 'e-mail as msg field',
    log: (l) => l.info({ msg: 'grace.m4@example.com logged out' }),
    secrets: ['grace.m4@example.com'],
    keep: ['logged out'],
  },
  {
    name: 'e-mail in userId (known field)',
    log: (l) => l.info({ userId: 'dave.m5@example.com', route: '/me' }, 'ok-m5'),
    secrets: ['dave.m5@example.com'],
    keep: ['/me', 'ok-m5'],
  },
  {
    name: 'e-mail in a raw-path route',
    log: (l) => l.info({ route: '/users/frank.m6@example.com/profile' }),
    secrets: ['frank.m6@example.com'],
    keep: ['/users/', '/profile'],
  },
  {
    name: 'e-mail in a context field',
    context: { userId: 'eve.m7@example.com', route: '/ctx-m7' },
    log: (l) => l.info('in request'),
    secrets: ['eve.m7@example.com'],
    keep: ['/ctx-m7'],
  },
  {
    name: 'Set of e-mails',
    log: (l) =>
      l.info({ recipients: new Set(['h1.m8@example.com', 'h2.m8@example.com']), count: 2 }),
    secrets: ['h1.m8@example.com', 'h2.m8@example.com'],
    keep: ['recipients'],
  },
  {
    name: 'URL with user:pass',
    log: (l) => l.info({ url: 'https://admin:u1secret@db.internal:5432/app' }),
    secrets: ['u1secret', 'admin:'],
    keep: ['db.internal:5432/app'],
  },
  {
    name: 'redis URL with empty user in message',
    log: (l) => l.warn('connecting to redis://:u2secret@cache:6379/0'),
    secrets: ['u2secret'],
    keep: ['cache:6379/0', 'connecting to'],
  },
  {
    name: 'URL object with credentials',
    log: (l) => l.info({ target: new URL('https://bot:u3secret@hooks.example.io/x?y=1') }),
    secrets: ['u3secret'],
    keep: ['hooks.example.io/x?y=1'],
  },
  {
    name: 'bearer token in the message',
    log: (l) => l.info('calling vendor with Bearer b1secretTokenValue now'),
    secrets: ['b1secretTokenValue'],
    keep: ['calling vendor', 'now'],
  },
  {
    name: 'bearer token in an array of strings',
    log: (l) =>
      l.info({ argv: ['--header', 'authorization: bearer b2secretTokenValue', '--verbose'] }),
    secrets: ['b2secretTokenValue'],
    keep: ['--verbose'],
  },
  {
    name: 'Basic credentials in a message',
    log: (l) => l.info(`header was Basic ${BASIC} (rejected)`),
    secrets: [BASIC],
    keep: ['(rejected)'],
  },
  {
    name: 'JWT inside prose',
    log: (l) => l.info({ note: `got ${JWT} from idp-1` }),
    secrets: [JWT, 'c2lnbmF0dXJl'],
    keep: ['from idp-1'],
  },
  {
    name: 'JWT as an unknown field value',
    log: (l) => l.info({ idt: JWT, kid: 'kid-1' }),
    secrets: [JWT.slice(0, 40)],
    keep: ['kid-1'],
  },
  {
    name: 'id_token JWT in a callback URL',
    log: (l) => l.info({ url: `https://app.example.io/cb?id_token=${JWT}&state=st-9` }),
    secrets: [JWT.slice(10, 40)],
    keep: ['state=st-9', 'app.example.io/cb'],
  },
  {
    name: 'opaque access_token query parameter',
    log: (l) => l.info({ url: '/cb?access_token=q1opaqueSecret&page=2' }),
    secrets: ['q1opaqueSecret'],
    keep: ['page=2'],
  },
  {
    name: 'password=… in free text',
    log: (l) => l.info('retrying with password=kv1secret and user=bob-kv'),
    secrets: ['kv1secret'],
    keep: ['user=bob-kv'],
  },
  {
    name: 'JSON body with a password in the message',
    log: (l) => l.info('body={"password":"js1secret","user":"u-js1"}'),
    secrets: ['js1secret'],
    keep: ['u-js1'],
  },
  {
    name: 'raw Authorization header line',
    log: (l) => l.debug('GET / HTTP/1.1\r\nAuthorization: Digest hd1secret\r\nHost: host-hd1'),
    secrets: ['hd1secret'],
    keep: ['Host: host-hd1'],
  },
  {
    name: 'raw Cookie header line',
    log: (l) => l.debug({ raw: 'Cookie: sid=hd2secret; lang=fr\nAccept: */*' }),
    secrets: ['hd2secret'],
    keep: ['Accept: */*'],
  },
  {
    name: 'huge string with an e-mail',
    log: (l) => l.info({ blob: `lead ivan.h1@example.com ${'a'.repeat(100_000)}` }),
    secrets: ['ivan.h1@example.com', 'a'.repeat(9000)],
    keep: ['lead', '[TRUNCATED'],
  },
  {
    name: 'bearer token straddling the cut',
    log: (l) =>
      l.info({
        blob: `${'x'.repeat(8180)} Bearer h2secretTokenLongEnoughToCross ${'y'.repeat(5000)}`,
      }),
    secrets: ['h2secretTok', 'h2sec'],
    keep: ['xxxx', '[TRUNCATED'],
  },
  {
    name: 'huge message',
    log: (l) => l.info(`start jo.h3@example.com ${'m'.repeat(50_000)}`),
    secrets: ['jo.h3@example.com', 'm'.repeat(9000)],
    keep: ['start', '[TRUNCATED'],
  },
];
