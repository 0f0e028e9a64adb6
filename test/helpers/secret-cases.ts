/**
 * One table of secret shapes and look-alikes, run against every exit: the
 * log line (test/logging/secret-table.test.ts), span attributes and events
 * at the OTLP receiver (test/tracing/span-scrub.test.ts), Sentry events
 * (test/logging/sentry-scrub.test.ts) and metric label values
 * (test/metrics/label-scrub.test.ts).
 *
 * Every secret value is unique to its case, so a leak names its case.
 * Credentials here are fabricated and only have the documented shape.
 */
import { inspect } from 'node:util';

/** A string that must come out with none of `secrets` and all of `keep`. */
export interface StringCase {
  name: string;
  text: string;
  secrets: string[];
  keep: string[];
}

/** A structured value (arrays, objects, Maps, Errors) — for the exits that take one. */
export interface ValueCase {
  name: string;
  value: unknown;
  secrets: string[];
  keep: string[];
  /** The value is a string array, so a span attribute can hold it too. */
  attribute?: boolean;
}

const fake = (prefix: string, n: number, alphabet = 'Fk9xQ2mZ7pL4'): string => {
  let s = prefix;
  for (let i = 0; s.length < prefix.length + n; i++) s += alphabet[i % alphabet.length];
  return s;
};

export const STRIPE = fake('sk_live_', 24);
export const STRIPE_RESTRICTED = fake('rk_live_', 24, 'Rr3sTq8');
export const GITHUB = fake('ghp_', 36);
export const GITHUB_PAT = fake('github_pat_', 40, 'Gh1tPat_9');
export const SLACK = 'xoxb-2718281828-3141592653-FakeSlackTok9';
export const AWS_KEY_ID = 'AKIAZZFAKE0EXAMPLE7Q';
export const AWS_STS_KEY_ID = 'ASIAZZFAKE0EXAMPLE8R';
export const GOOGLE = fake('AIza', 35, 'Goo9_gle-K3y');
export const GITLAB = fake('glpat-', 20, 'GlAb7x');
export const NPM = fake('npm_', 36, 'NpM5t0k');
export const OPENAI = fake('sk-proj-', 40, 'OpEnA1x_y');
export const PEM_BODY = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7fakepembody';
export const PEM = `-----BEGIN PRIVATE KEY-----\n${PEM_BODY}\nZm9vYmFyYmF6cGVtbGluZTI=\n-----END PRIVATE KEY-----`;
export const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ0YWJsZSJ9.dGFibGUtc2lnbmF0dXJlLWp3dA';

/** Secrets inside strings. Each of these is also a metric label value and a span attribute. */
export const SECRET_STRINGS: StringCase[] = [
  {
    name: 'OAuth code in a query string',
    text: 'GET /oauth/cb?code=4/0AfakeOAuthCode1&scope=email',
    secrets: ['4/0AfakeOAuthCode1'],
    keep: ['/oauth/cb?code=', 'scope=email'],
  },
  {
    name: 'access_token in a URL fragment',
    text: 'https://app.example.io/cb#access_token=ya29.fragTok2&token_type=bearer',
    secrets: ['ya29.fragTok2'],
    keep: ['app.example.io/cb', 'token_type=bearer'],
  },
  {
    name: 'signature of a presigned URL in a redirect',
    text: 'redirect https://files.example.io/o?X-Amz-Signature=5ab3c0ffee3sig&X-Amz-Date=20260101',
    secrets: ['5ab3c0ffee3sig'],
    keep: ['X-Amz-Date=20260101'],
  },
  {
    name: 'key and sig parameters of a path+query',
    text: '/v1/file?key=kparam4secret&sig=sparam4secret&size=10',
    secrets: ['kparam4secret', 'sparam4secret'],
    keep: ['/v1/file', 'size=10'],
  },
  {
    name: 'api_key in a location value',
    text: 'location: /next?api_key=akLoc5secret&page=2',
    secrets: ['akLoc5secret'],
    keep: ['page=2'],
  },
  {
    name: 'percent-encoded e-mail in a path',
    text: '/users/erin.p6%40example.com/orders',
    secrets: ['erin.p6'],
    keep: ['/users/', '/orders'],
  },
  {
    name: 'percent-encoded e-mail in a query value',
    text: '/search?to=frank.p7%40example.org&n=1',
    secrets: ['frank.p7'],
    keep: ['/search', 'n=1'],
  },
  {
    name: 'Stripe secret key',
    text: `charge with ${STRIPE}`,
    secrets: [STRIPE],
    keep: ['charge with'],
  },
  {
    name: 'Stripe restricted key',
    text: `key ${STRIPE_RESTRICTED} rotated`,
    secrets: [STRIPE_RESTRICTED],
    keep: ['rotated'],
  },
  {
    name: 'GitHub token',
    text: `clone failed (${GITHUB})`,
    secrets: [GITHUB],
    keep: ['clone failed'],
  },
  { name: 'GitHub fine-grained PAT', text: GITHUB_PAT, secrets: [GITHUB_PAT], keep: [] },
  { name: 'Slack token', text: `slack ${SLACK} posted`, secrets: [SLACK], keep: ['posted'] },
  {
    name: 'AWS access key id',
    text: `aws id ${AWS_KEY_ID}`,
    secrets: [AWS_KEY_ID],
    keep: ['aws id'],
  },
  { name: 'AWS temporary key id', text: AWS_STS_KEY_ID, secrets: [AWS_STS_KEY_ID], keep: [] },
  { name: 'Google API key', text: `maps key ${GOOGLE}.`, secrets: [GOOGLE], keep: ['maps key'] },
  { name: 'GitLab token', text: `token ${GITLAB} expired`, secrets: [GITLAB], keep: ['expired'] },
  { name: 'npm token', text: `//registry/:_authToken ${NPM}`, secrets: [NPM], keep: [] },
  { name: 'sk- API key', text: `openai ${OPENAI} 401`, secrets: [OPENAI], keep: ['401'] },
  {
    name: 'PEM private key block',
    text: `key:\n${PEM}\nloaded`,
    secrets: [PEM_BODY],
    keep: ['loaded'],
  },
  {
    name: 'cut PEM private key block',
    text: `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY}`,
    secrets: [PEM_BODY],
    keep: [],
  },
  {
    name: 'key=value in prose',
    text: 'retry with password=kv8secret&user=u8',
    secrets: ['kv8secret'],
    keep: ['user=u8'],
  },
  {
    name: 'key: value',
    text: 'db password: colon9secret',
    secrets: ['colon9secret'],
    keep: ['db'],
  },
  {
    name: 'JSON pair',
    text: '{"client_secret":"json10secret","id":"c10"}',
    secrets: ['json10secret'],
    keep: ['c10'],
  },
  {
    name: 'single-quoted pair',
    text: "{'api_key': 'single11secret', 'id': 'c11'}",
    secrets: ['single11secret'],
    keep: ['c11'],
  },
  {
    name: 'util.inspect output',
    text: inspect({ password: 'inspect12secret', user: 'u12' }),
    secrets: ['inspect12secret'],
    keep: ['u12'],
  },
  {
    name: 'export of an AWS secret',
    text: 'export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKE13',
    secrets: ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKE13'],
    keep: ['export AWS_SECRET_ACCESS_KEY='],
  },
  {
    name: '--password= on a command line',
    text: 'node app.js --password=argv14secret --port=8080',
    secrets: ['argv14secret'],
    keep: ['--port=8080'],
  },
  {
    name: 'URL password with # and /',
    text: 'postgres://app:p#ss/w0rd15@db:5432/app',
    secrets: ['p#ss/w0rd15', 'w0rd15'],
    keep: ['db:5432/app'],
  },
  {
    name: 'URL password with percent-encoding',
    text: 'mysql://root:s%40cr%2Ft16@db.internal/app',
    secrets: ['s%40cr%2Ft16', 'cr%2Ft16'],
    keep: ['db.internal/app'],
  },
  {
    name: 'short Bearer token',
    text: 'sent Bearer ab17c',
    secrets: ['ab17c'],
    keep: ['sent Bearer'],
  },
  {
    name: 'unpadded Basic credentials',
    text: 'Basic dXNlcjpwYXNzd29yZA',
    secrets: ['dXNlcjpwYXNzd29yZA'],
    keep: ['Basic'],
  },
  {
    name: 'short Basic credentials',
    text: 'auth Basic YTpi done',
    secrets: ['YTpi'],
    keep: ['done'],
  },
  {
    name: 'IDN e-mail',
    text: 'mail to josé18@bücher.example now',
    secrets: ['josé18', 'bücher'],
    keep: ['mail to', 'now'],
  },
  { name: 'e-mail in another script', text: '用户19@例子.广告', secrets: ['用户19'], keep: [] },
  { name: 'JWT', text: `token ${JWT}`, secrets: [JWT.slice(0, 30)], keep: [] },
  {
    name: 'the route/throw error message',
    text: 'no user bob@example.com (postgres://app:hunter2@db/app)',
    secrets: ['bob@example.com', 'hunter2'],
    keep: ['no user', 'db/app'],
  },
  {
    name: 'Cookie header line',
    text: 'Cookie: sid=cookie20secret; theme=dark',
    secrets: ['cookie20secret'],
    keep: ['Cookie:'],
  },
  {
    name: 'double-quoted key="value"',
    text: 'password="pw31 secret" user=ann',
    secrets: ['pw31', 'secret"'],
    keep: ['password=', 'user=ann'],
  },
  {
    name: "single-quoted export KEY='value'",
    text: "export API_KEY='key32secret'",
    secrets: ['key32secret'],
    keep: ['export API_KEY='],
  },
  {
    name: 'spaced key = value',
    text: 'password = pw33secret',
    secrets: ['pw33secret'],
    keep: ['password ='],
  },
  {
    name: 'key:value without a space',
    text: 'password:pw34secret',
    secrets: ['pw34secret'],
    keep: ['password:'],
  },
  {
    name: 'JS object literal without spaces',
    text: "{password:'pw35secret',user:'ann'}",
    secrets: ['pw35secret'],
    keep: ["user:'ann'"],
  },
  {
    name: 'util.inspect of a value with both quotes (backticks)',
    text: inspect({ password: `it's "pw36secret"` }),
    secrets: ['pw36secret', "it's"],
    keep: ['password:'],
  },
  {
    name: 'e-mail with a punycode TLD',
    text: 'mail erin37@example.xn--p1ai now',
    secrets: ['erin37', 'xn--p1ai', 'p1ai'],
    keep: ['mail', 'now'],
  },
  {
    name: 'jsessionid path parameter',
    text: 'GET /cart;jsessionid=JS38SESSIONSECRET HTTP/1.1',
    secrets: ['JS38SESSIONSECRET'],
    keep: ['/cart;jsessionid=', 'HTTP/1.1'],
  },
  {
    name: 'PHPSESSID pair',
    text: 'PHPSESSID=php39secret',
    secrets: ['php39secret'],
    keep: ['PHPSESSID='],
  },
  {
    name: 'Basic credentials with one character too many',
    text: 'Basic dXNlcjpwdzQwc2VjcmV0x',
    secrets: ['dXNlcjpwdzQwc2VjcmV0'],
    keep: ['Basic'],
  },
  {
    name: 'Bearer in mixed case',
    text: 'sent BeArEr bt41secretTOKEN',
    secrets: ['bt41secretTOKEN'],
    keep: ['sent BeArEr'],
  },
  {
    name: 'key with a space before an unspaced colon',
    text: 'password :pw42secret',
    secrets: ['pw42secret'],
    keep: ['password :'],
  },
  {
    name: 'JSON key the colon rule cannot read, newline before the colon',
    text: '{"_token"\n: "tk43secret"}',
    secrets: ['tk43secret'],
    keep: ['_token'],
  },
];

/** Strings that look a little like secrets and must come out unchanged. */
export const LOOK_ALIKES: string[] = [
  '3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f',
  '4bf92f3577b34da6a3ce929d0e0e4736',
  '00f067aa0ba902b7',
  'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
  'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'the token was refreshed',
  'tokens used: 1234',
  'missing Bearer token',
  'the bearer of bad news',
  'Basic configuration is described below',
  'GET /users/:id 200 12ms',
  'exit code=137',
  'key=value pairs',
  'passwordPolicy=strict',
  '/orders?page=2&sort=asc',
  'ghp_short',
  'task-1234567890abcdefghijklmnop',
  'scikit-learn',
  'Bearer realm="api"',
  'export PATH=/usr/local/bin',
  'ASIAN markets',
  'https://example.com:8443/health',
  'import.trades',
  'HTTP GET /users/:id',
  'listening on localhost:8080',
  'retry at 12:30:45',
  'urn:uuid:3f2c1a9e-8b7d-4c6e-9f10-2a3b4c5d6e7f',
  'see docs:configuration',
  'ratio a:b = 3',
];

/** Structured values: logs and Sentry take all of them, span attributes the string arrays. */
export const SECRET_VALUES: ValueCase[] = [
  {
    name: 'argv array with a --token flag',
    value: ['node', 'app.js', '--token', 'argv21secret', '--port', '8080'],
    secrets: ['argv21secret'],
    keep: ['--token', '8080'],
    attribute: true,
  },
  {
    name: 'rawHeaders flat array',
    value: ['Host', 'api.example.io', 'Cookie', 'sid=raw22secret', 'Accept', '*/*'],
    secrets: ['raw22secret'],
    keep: ['api.example.io', '*/*'],
    attribute: true,
  },
  {
    name: 'HAR header list',
    value: [
      { name: 'Authorization', value: 'Token har23secret' },
      { name: 'Accept', value: 'application/json' },
    ],
    secrets: ['har23secret'],
    keep: ['application/json'],
  },
  {
    name: 'key/value list',
    value: [{ key: 'x-api-key', value: 'kvlist24secret' }],
    secrets: ['kvlist24secret'],
    keep: ['x-api-key'],
  },
  {
    name: 'entries array',
    value: [
      ['authorization', 'entry25secret'],
      ['accept', 'json'],
    ],
    secrets: ['entry25secret'],
    keep: ['accept'],
  },
  {
    name: 'key names in every case style',
    value: {
      secret_key: 'k26a',
      SECRET_ACCESS_KEY: 'k26b',
      privateKeyPem: 'k26c',
      'client-secret': 'k26d',
      pass: 'k26e',
      password_hash: 'k26f',
      pin: 'k26g',
      otp: 'k26h',
      signature: 'k26i',
      csrfToken: 'k26j',
      XSRF: 'k26k',
      'db.password': 'k26l',
      private_key: 'k26m',
      keep26: 'visible26',
    },
    secrets: [
      'k26a',
      'k26b',
      'k26c',
      'k26d',
      'k26e',
      'k26f',
      'k26g',
      'k26h',
      'k26i',
      'k26j',
      'k26k',
      'k26l',
      'k26m',
    ],
    keep: ['visible26'],
  },
  {
    name: 'session cookies under their framework names',
    value: {
      JSESSIONID: 'sess41a',
      PHPSESSID: 'sess41b',
      sessid: 'sess41c',
      'connect.sid': 's:sess41d',
      theme41: 'dark41',
    },
    secrets: ['sess41a', 'sess41b', 'sess41c', 'sess41d'],
    keep: ['dark41'],
  },
  {
    name: 'e-mail and JWT as object keys',
    value: { 'gina27@example.com': 1, [JWT]: 'jwt-key', plain27: 2 },
    secrets: ['gina27@example.com', JWT.slice(0, 30)],
    keep: ['plain27'],
  },
  {
    name: 'e-mail as a Map key',
    value: new Map<string, number>([['hank28@example.com', 3]]),
    secrets: ['hank28@example.com'],
    keep: [],
  },
  {
    name: 'every string field of an Error',
    value: Object.assign(new Error('failed for ivy29@example.com'), {
      name: 'LookupError for jay29@example.com',
      code: 'E29 token=code29secret',
      detail: 'password=detail29secret',
    }),
    secrets: ['ivy29@example.com', 'jay29@example.com', 'code29secret', 'detail29secret'],
    keep: ['failed for'],
  },
];

/** Every key and primitive value of a parsed JSON value, one per item. */
export function allText(value: unknown, out: string[] = []): string[] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      allText(v, out);
    }
  } else out.push(String(value));
  return out;
}
