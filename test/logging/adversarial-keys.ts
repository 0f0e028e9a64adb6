import type { AdversarialCase } from './adversarial.js';

/** Keys, shapes and depths. */
export const KEY_CASES: AdversarialCase[] = [
  {
    name: 'top-level authorization (unknown key)',
    log: (l) => l.info({ authorization: 'Tok-a1-secret', route: '/a/:id' }, 'm'),
    secrets: ['Tok-a1-secret'],
    keep: ['/a/:id'],
  },
  {
    name: 'Authorization in odd case, nested headers',
    log: (l) => l.info({ req: { headers: { AUTHORIZATION: 'Tok-a2-secret', host: 'api.local' } } }),
    secrets: ['Tok-a2-secret'],
    keep: ['api.local', 'AUTHORIZATION'],
  },
  {
    name: 'proxy-authorization header',
    log: (l) =>
      l.info({ headers: { 'Proxy-Authorization': 'Tok-a3-secret', accept: 'text/html' } }),
    secrets: ['Tok-a3-secret'],
    keep: ['text/html'],
  },
  {
    name: 'cookie header string',
    log: (l) =>
      l.info({ headers: { cookie: 'sid=ck1secret; theme=dark', 'user-agent': 'curl/8' } }),
    secrets: ['ck1secret', 'theme=dark'],
    keep: ['curl/8'],
  },
  {
    name: 'set-cookie array',
    log: (l) =>
      l.info({
        res: {
          headers: {
            'set-cookie': ['sid=ck2secret; HttpOnly', 'x=ck2b'],
            'content-type': 'application/json',
          },
        },
      }),
    secrets: ['ck2secret', 'ck2b'],
    keep: ['application/json'],
  },
  {
    name: 'Cookie key inside a Map',
    log: (l) =>
      l.info({
        headers: new Map([
          ['Cookie', 'sid=ck3secret'],
          ['accept', 'image/png'],
        ]),
      }),
    secrets: ['ck3secret'],
    keep: ['image/png'],
  },
  {
    name: 'camelCase tokenEnc at top level',
    log: (l) => l.info({ tokenEnc: 'gcm:enc1secret', tokenId: 'tok_1' }),
    secrets: ['enc1secret'],
    keep: ['tok_1'],
  },
  {
    name: 'apiKeyEnc inside an array of objects',
    log: (l) => l.info({ accounts: [{ vendor: 'ibkr', apiKeyEnc: 'enc2secret' }] }),
    secrets: ['enc2secret'],
    keep: ['ibkr'],
  },
  {
    name: 'snake_case token_enc in a row',
    log: (l) => l.info({ row: { token_enc: 'enc3secret', user_id: 'u_9' } }),
    secrets: ['enc3secret'],
    keep: ['u_9'],
  },
  {
    name: 'SCREAMING TOKEN_ENC',
    log: (l) => l.info({ env_vars: { TOKEN_ENC: 'enc4secret', NODE_ENV: 'test' } }),
    secrets: ['enc4secret'],
    keep: ['NODE_ENV'],
  },
  {
    name: 'bare enc key next to reference/sequence',
    log: (l) => l.info({ blob: { enc: 'enc5secret', reference: 'ref-123', sequence: 'seq-7' } }),
    secrets: ['enc5secret'],
    keep: ['ref-123', 'seq-7'],
  },
  {
    name: 'DEKEnc after an acronym',
    log: (l) => l.info({ tenant: { DEKEnc: 'enc6secret', tenantId: 't_1' } }),
    secrets: ['enc6secret'],
    keep: ['t_1'],
  },
  {
    name: 'password five levels deep',
    log: (l) => l.info({ a: { b: { c: { d: { password: 'pw1secret', e: 'deep-ok' } } } } }),
    secrets: ['pw1secret'],
    keep: ['deep-ok'],
  },
  {
    name: 'api_key / API-KEY / x-api-key / apiKey',
    log: (l) =>
      l.info({
        k: {
          api_key: 'ak1secret',
          'API-KEY': 'ak2secret',
          'x-api-key': 'ak3secret',
          apiKey: 'ak4secret',
          apiVersion: 'v2',
        },
      }),
    secrets: ['ak1secret', 'ak2secret', 'ak3secret', 'ak4secret'],
    keep: ['v2'],
  },
  {
    name: 'clientSecret and client_secret',
    log: (l) =>
      l.info({
        oauth: { clientSecret: 'cs1secret', client_secret: 'cs2secret', clientId: 'cid-1' },
      }),
    secrets: ['cs1secret', 'cs2secret'],
    keep: ['cid-1'],
  },
  {
    name: 'privateKey PEM',
    log: (l) =>
      l.info({
        tls: {
          privateKey: '-----BEGIN PRIVATE KEY-----\nMIIpk1secret\n-----END PRIVATE KEY-----',
          cert: 'cert-public',
        },
      }),
    secrets: ['MIIpk1secret'],
    keep: ['cert-public'],
  },
  {
    name: 'suffix match: dbPassword, githubToken, stripe_secret',
    log: (l) =>
      l.info({
        cfg: {
          dbPassword: 'sx1secret',
          githubToken: 'sx2secret',
          stripe_secret: 'sx3secret',
          tokenCount: 512,
        },
      }),
    secrets: ['sx1secret', 'sx2secret', 'sx3secret'],
    keep: ['tokenCount', '512'],
  },
  {
    name: 'session and sessionId',
    log: (l) =>
      l.info({ s: { session: { id: 'ss1secret' }, sessionId: 'ss2secret', plan: 'pro-plan' } }),
    secrets: ['ss1secret', 'ss2secret'],
    keep: ['pro-plan'],
  },
  {
    name: 'credentials object',
    log: (l) =>
      l.info({ conn: { credentials: { user: 'cr1secret', pass: 'cr2secret' }, host: 'db-host' } }),
    secrets: ['cr1secret', 'cr2secret'],
    keep: ['db-host'],
  },
  {
    name: 'explicit extra with a password',
    log: (l) => l.info({ extra: { password: 'ex1secret', feature: 'flag-x' } }),
    secrets: ['ex1secret'],
    keep: ['flag-x'],
  },
  {
    name: 'redactKeys option adds ssn',
    setup: { redactKeys: ['ssn'] },
    log: (l) => l.info({ person: { SSN: 'ssn1secret', country: 'FR' } }),
    secrets: ['ssn1secret'],
    keep: ['FR'],
  },
  {
    name: 'secret in a Set inside an array',
    log: (l) => l.info({ list: [new Set(['Bearer set1secretToken', 'plain-item'])] }),
    secrets: ['set1secretToken'],
    keep: ['plain-item'],
  },
  {
    name: 'nested arrays of kv strings',
    log: (l) => l.info({ argv: [[['--password=arr1secret', '--port=8080']]] }),
    secrets: ['arr1secret'],
    keep: ['--port=8080'],
  },
  {
    name: 'child binding with a secret',
    log: (l) =>
      l.child({ authorization: 'Tok-ch1-secret', component: 'worker-x' }).info('child line'),
    secrets: ['Tok-ch1-secret'],
    keep: ['worker-x', 'child line'],
  },
  {
    name: 'grandchild binding with an Enc field',
    log: (l) => l.child({ component: 'c1' }).child({ keyEnc: 'ch2secret' }).info({ step: 'two' }),
    secrets: ['ch2secret'],
    keep: ['c1', 'two'],
  },
  {
    name: 'reserved field carrying a bearer token',
    log: (l) => l.info({ service: 'Bearer rs1secretToken', k: 'kept-value' }),
    secrets: ['rs1secretToken'],
    keep: ['kept-value'],
  },
  {
    name: 'redactPaths under extra',
    setup: { redactPaths: ['card.number'] },
    log: (l) => l.info({ card: { number: '4111-rp1', brand: 'visa' } }),
    secrets: ['4111-rp1'],
    keep: ['visa'],
  },
];
