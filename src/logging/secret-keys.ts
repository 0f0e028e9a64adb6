/**
 * Which object keys hold secrets. A value under a secret key is replaced by
 * `[REDACTED]` whatever its type, at any depth.
 *
 * Matching policy (documented in the README of the logging docs):
 *
 * 1. **Normalised exact match.** The key is lowercased and `-`, `_`, `.`
 *    and spaces are removed, then looked up in a `Set`: `api_key`, `API-KEY`,
 *    `apiKey`, `api.key` and `x-api-key` → `apikey` / `xapikey` (camelCase,
 *    snake_case, kebab-case and SCREAMING_CASE alike). The default list is
 *    `DEFAULT_SECRET_KEYS`; the `keys` option adds to it (normalised the same
 *    way).
 * 2. **Normalised suffix match** for a few words that are secret whatever
 *    precedes them (`SECRET_SUFFIXES`): `dbPassword`, `db.password`,
 *    `stripe_secret`, `githubToken`, `sessionCookie`,
 *    `AWS_SECRET_ACCESS_KEY`, `signing_private_key_pem`, `passwordHash`. There is no substring match:
 *    `tokenCount`, `tokens`, `passwordPolicy` and `secretName` are kept.
 * 3. **`Enc` fields** (spec 09: "any *Enc fields"): a key ending in `Enc`
 *    with a capital E (camelCase: `tokenEnc`, `apiKeyEnc`, `DEKEnc`), a key
 *    ending in `_enc` or `-enc` in any case (`token_enc`, `TOKEN_ENC`), or the
 *    key `enc` itself in any case. The case-sensitive camelCase rule is what
 *    keeps `reference`, `sequence`, `licence` or `frequency` from matching;
 *    a lowercase run-together key like `tokenenc` is not matched (add it to
 *    `keys`).
 */

/** Normalised (lowercase, no `-` / `_`) key names that always hold secrets. */
export const DEFAULT_SECRET_KEYS: readonly string[] = Object.freeze([
  'authorization',
  'proxyauthorization',
  'cookie',
  'cookies',
  'setcookie',
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'passwordhash',
  'secret',
  'clientsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'sessiontoken',
  'authtoken',
  'xauthtoken',
  'csrftoken',
  'xcsrftoken',
  'xsrftoken',
  'xxsrftoken',
  'apikey',
  'xapikey',
  'apitoken',
  'privatekey',
  'privatekeypem',
  'secretkey',
  'secretaccesskey',
  'pin',
  'otp',
  'totp',
  'signature',
  'csrf',
  'xsrf',
  'xcsrf',
  'xxsrf',
  'session',
  'sessionid',
  'jwt',
  'credentials',
  'credential',
  'auth',
  'connectionstring',
  'cvv',
  'jsessionid',
  'phpsessid',
  'sessid',
  'connectsid',
]);

/** Normalised endings that make any key secret (`dbPassword`, `githubToken`). */
export const SECRET_SUFFIXES: readonly string[] = Object.freeze([
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'privatekey',
  'privatekeypem',
  'secretkey',
  'secretaccesskey',
  'passwordhash',
  'cookie',
  'authorization',
]);

/** Lowercases and drops `-`, `_`, `.` and spaces: `X-Api_Key` → `xapikey`. */
export function normalizeKey(key: string): string {
  const lower = key.toLowerCase();
  return /[-_. ]/.test(lower) ? lower.replace(/[-_. ]/g, '') : lower;
}

/** The `Enc` rule (3) of the module comment, on the key as written. */
export function isEncKey(key: string): boolean {
  const n = key.length;
  if (n < 3) return false;
  if (key.endsWith('Enc') && n > 3) return true;
  const tail = key.slice(-3).toLowerCase();
  if (tail !== 'enc') return false;
  if (n === 3) return true;
  const sep = key.charCodeAt(n - 4);
  return sep === 95 /* _ */ || sep === 45; /* - */
}

/** Keys seen are remembered up to this many; past it they are computed each time. */
const CACHE_LIMIT = 10_000;

/**
 * Builds the key predicate for one redactor. Results are cached per key
 * string: log objects use the same few dozen keys over and over, so after
 * warm-up a check is one `Map` lookup.
 */
export function createSecretKeyMatcher(
  extraKeys: readonly string[] = [],
): (key: string) => boolean {
  const exact = new Set<string>(DEFAULT_SECRET_KEYS);
  for (const k of extraKeys) exact.add(normalizeKey(k));
  const cache = new Map<string, boolean>();

  function compute(key: string): boolean {
    if (isEncKey(key)) return true;
    const n = normalizeKey(key);
    if (exact.has(n)) return true;
    for (const suffix of SECRET_SUFFIXES) if (n.endsWith(suffix)) return true;
    return false;
  }

  return function isSecretKey(key: string): boolean {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const result = compute(key);
    if (cache.size < CACHE_LIMIT) cache.set(key, result);
    return result;
  };
}

/** Normalised keys that hold an e-mail address. */
const EMAIL_KEYS: ReadonlySet<string> = new Set([
  'email',
  'emailaddress',
  'mail',
  'mailaddress',
  'useremail',
  'contactemail',
]);

/**
 * Whether a key names an e-mail address (`email`, `userEmail`, `e_mail`,
 * `EMAIL_ADDRESS`): the lint rule flags such log fields, and `logging.fields`
 * refuses such names (their values would only ever be `[EMAIL]`).
 */
export function isEmailKey(key: string): boolean {
  const n = normalizeKey(key);
  return EMAIL_KEYS.has(n) || n.endsWith('email') || n.endsWith('emailaddress');
}
