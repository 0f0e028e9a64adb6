/**
 * Scrubbing of secrets inside strings: messages, error messages, stacks,
 * URLs, any string value at any depth — of log lines, span attributes,
 * Sentry events, metric label values and error messages alike.
 *
 * | what                                   | becomes                         |
 * |----------------------------------------|---------------------------------|
 * | credentials in a URL `https://u:p@h` (a password may hold `#`, `/`, `%xx`) | `https://[REDACTED]@h` |
 * | e-mail address (IDN and punycode too), percent-encoded `erin%40example.com` too | `[EMAIL]` |
 * | `Bearer <token>` of any length (not prose: `Bearer token`, `the bearer of`) | `Bearer [REDACTED]` |
 * | `Basic <base64 of user:pass>`, padded or not | `Basic [REDACTED]`             |
 * | JWT / base64url JSON (`eyJ…`, ≥ 10 ch.) | `[JWT]`                         |
 * | vendor credentials: Stripe `sk_live_`/`sk_test_`/`rk_live_`, GitHub `ghp_`/`gho_`/`ghs_`/`ghu_`/`ghr_`/`github_pat_`, Slack `xox?-`, AWS `AKIA`/`ASIA` key ids, Google `AIza`, GitLab `glpat-`, npm `npm_`, `sk-…` API keys | `[REDACTED]` |
 * | PEM private key blocks (`-----BEGIN … PRIVATE KEY-----` to its END, or to the end of the string) | `[REDACTED]` |
 * | `Authorization: …`, `Cookie: …` header lines, to the end of the line | `Cookie: [REDACTED]` |
 * | `key=value`, `key = value`, `key="value"`, `key='value'` where key is a secret key (`export AWS_SECRET_ACCESS_KEY=…`, `--password=…`) | `key=[REDACTED]` |
 * | query and fragment parameters with a secret-like name (`?code=`, `#access_token=`, `&sig=`, `&key=`) | `?code=[REDACTED]` |
 * | `"key":"value"`, `'key': 'value'`, `key: value`, `key:value`, `` key: `value` `` (`util.inspect`, YAML, JS) | value `[REDACTED]` |
 *
 * Two combined pre-checks decide whether any rule can match: a char-class
 * scan (`TRIGGER_CHARS`) then one alternation (`TRIGGERS`, with the scan of
 * `hasUnspacedSecretPair`); only then do the per-rule checks (`indexOf`, a
 * case-insensitive word) and regexes run. Short strings found clean are
 * remembered in a small direct-mapped memo, so the constant strings of a hot
 * path (route, method, message) cost one comparison. Measured on a UUID:
 * the `indexOf` chain alone ~150 ns, the alternation ~120 ns, the char
 * class ~50 ns; a memo hit ~10 ns. Hex ids, UUIDs and numbers have none of
 * the trigger characters.
 *
 * Rules run in this order so that a URL's `user:pass@host` is not first
 * half-eaten by the e-mail rule, and a PEM block is gone before the
 * key/value rules look at its lines.
 */

/** Replacement markers. Part of the documented output format. */
export const MARKERS = Object.freeze({
  redacted: '[REDACTED]',
  email: '[EMAIL]',
  jwt: '[JWT]',
  circular: '[Circular]',
  maxDepth: '[MaxDepth]',
  maxNodes: '[MaxNodes]',
  getterThrew: '[GetterThrew]',
  unserializable: '[Unserializable]',
  /** Appended to a cut string: `…[TRUNCATED 123456 chars]` (original length). */
  truncated: '…[TRUNCATED',
});

/** What a redaction replaced; passed to the `onRedaction` hook. */
export type RedactionKind =
  | 'key'
  | 'email'
  | 'url_credentials'
  | 'bearer'
  | 'basic'
  | 'jwt'
  | 'header'
  | 'key_value'
  | 'credential'
  | 'private_key'
  | 'truncated'
  | 'max_depth'
  | 'max_nodes'
  | 'circular';

/**
 * The rules' patterns, compiled per scrubber (`createScrubber` runs once per
 * `init()`), not at module load: module-level code runs before any test, so
 * a mutation test of it could never fail (test/mutation/REPORT.md).
 */
function compilePatterns() {
  return {
    URL_CREDENTIALS:
      /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s/?#:]{0,256}:[^\s@]{0,256}?|[^\s/?#@:]{1,256})@/gi,
    // Bounded quantifiers keep the worst case linear-ish on long adversarial
    // strings (RFC 5321: local part ≤ 64, label ≤ 63). Letters and digits of
    // any script: internationalised addresses (RFC 6531); a punycode TLD
    // (`xn--p1ai`) is tried first, so none of it is left behind.
    EMAIL:
      /[\p{L}\p{N}._%+-]{1,64}@(?:[\p{L}\p{N}-]{1,63}\.){1,8}(?:[xX][nN]--[a-zA-Z0-9-]{1,59}|\p{L}{2,63})/gu,
    /** An `@` percent-encoded in a path or query (`erin%40example.com`). */
    EMAIL_ENCODED:
      /[A-Za-z0-9._+-]{1,64}%40(?:[A-Za-z0-9-]{1,63}\.){1,8}(?:xn--[a-z0-9-]{1,59}|[A-Za-z]{2,63})/gi,
    BEARER: /\b(bearer)(\s+)([A-Za-z0-9\-._~+/]+=*)/gi,
    BASIC: /\b(basic)(\s+)([A-Za-z0-9+/]{2,}={0,2})(?![A-Za-z0-9+/=])/gi,
    JWT: /eyJ[A-Za-z0-9_-]{7,}(?:\.[A-Za-z0-9_-]*){0,2}/g,
    HEADER: /\b(proxy-authorization|authorization|set-cookie|cookie)(\s*:[ \t]*)[^\r\n]+/gi,
    /**
     * Vendor credential shapes, after the formats documented by public
     * secret-scanning rule sets (fixed prefixes, so no look-alike in ordinary
     * ids): Stripe secret and restricted keys, GitHub tokens, Slack tokens,
     * AWS access key ids, Google API keys, GitLab and npm tokens, `sk-` API
     * keys.
     */
    VENDOR:
      /\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,247}|gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255}|xox[abposre]-[A-Za-z0-9-]{10,250}|(?:AKIA|ASIA)[A-Z0-9]{16}|AIza[0-9A-Za-z_-]{35}|glpat-[0-9A-Za-z_-]{20,64}|npm_[A-Za-z0-9]{36}|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,255})(?![A-Za-z0-9])/g,
    VENDOR_HINT:
      /[sr]k_(?:live|test)_|gh[pousr]_|github_pat_|xox[abposre]-|AKIA|ASIA|AIza|glpat-|npm_|sk-/,
    PEM: /-----BEGIN[ A-Z0-9]{0,32}PRIVATE KEY( BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9]{0,32}PRIVATE KEY( BLOCK)?-----|[\s\S]*$)/g,
    /**
     * `key=value`, `key = value`, `key="value"`, `key='value'`; `[?&#;]`
     * before the key marks a URL parameter (query or fragment).
     */
    KEY_VALUE:
      /([?&#;]?)([A-Za-z][A-Za-z0-9_.-]{0,63})([ \t]*=[ \t]*)("(?:[^"\\\n]|\\.){0,4096}"|'(?:[^'\\\n]|\\.){0,4096}'|(?:(?:bearer|basic) +)?(?:[^&\s;,"'<>#]|#(?![A-Za-z][A-Za-z0-9_.-]{0,63}=))+)/gi,
    JSON_PAIR: /"([^"\\]{1,64})"(\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\]\s]+)/g,
    /** `key: value`, `'key': 'value'`, `` key: `value` `` (`util.inspect`, YAML, JS object literals). */
    COLON_PAIR:
      /(['"]?)\b([A-Za-z][A-Za-z0-9_.-]{0,63})\1([ \t]*:[ \t]*)('(?:[^'\\\n]|\\.){0,4096}'|"(?:[^"\\\n]|\\.){0,4096}"|`(?:[^`\\\n]|\\.){0,4096}`|[^\s,;}'"`\]]+)/g,
    /** A scheme word at the start of a key/value rule's value (`authorization=Bearer …`). */
    SCHEME_PREFIX: /^(bearer|basic) +/i,
    /**
     * A character that every rule needs (`@` e-mail and URL credentials,
     * whitespace Bearer/Basic/PEM, `J` of `eyJ`, `:` headers and pairs, `=`
     * key=value, `"` JSON, `%` of `%40`, `_` `I` `k` `x` `g` of vendor
     * prefixes). Hex ids, UUIDs, numbers and routes without `:` have none:
     * one char-class scan.
     */
    TRIGGER_CHARS: /[@="\s:J%_Ikxg]/,
    /**
     * Every substring that some rule needs, in any case (schemes and header
     * names are case-insensitive: `BeArEr`); a string without any is clean
     * unless it has a secret `key:value` without a space after the colon
     * (`hasUnspacedSecretPair`).
     */
    TRIGGERS:
      /[@="]|eyJ|earer|asic|ookie|uthoriz|%40|:[ \t]|':|_live_|_test_|gh[pousr]_|github_pat_|xox[abposre]-|AKIA|ASIA|AIza|glpat-|npm_|sk-|PRIVATE KEY/i,
    /** The words the Bearer, Basic and header rules need, in any case. */
    BEARER_WORD: /bearer/i,
    BASIC_WORD: /basic/i,
    HEADER_WORD: /cookie|authorization/i,
    /** A JSON key's closing quote and its colon (`"key":`, `"key"\n :`). */
    JSON_SEP: /"\s*:/,
    /**
     * Words that follow "Bearer" in prose, not tokens ("a Bearer token", "the
     * bearer of", "Bearer auth"): a single lowercase word from this list is kept.
     */
    BEARER_PROSE: new Set([
      'a',
      'an',
      'and',
      'as',
      'auth',
      'authentication',
      'authorization',
      'credential',
      'credentials',
      'expected',
      'for',
      'format',
      'header',
      'headers',
      'in',
      'invalid',
      'is',
      'missing',
      'of',
      'on',
      'or',
      'prefix',
      'realm',
      'required',
      'scheme',
      'string',
      'the',
      'to',
      'token',
      'tokens',
      'type',
      'value',
      'was',
      'with',
    ]),
    /**
     * Query and fragment parameter names whose values are secret beyond the
     * secret keys (normalised: lowercase, no `-`, `_` or `.`): OAuth codes,
     * URL signatures, API keys and session ids (`signature` and
     * `X-Amz-Security-Token` are secret keys already). Only after `?`, `&`, `#` or
     * `;`: a `code` or `key` field elsewhere is not a secret.
     */
    URL_SECRET_PARAMS: new Set([
      'code',
      'key',
      'sig',
      'sid',
      'xamzsignature',
      'xamzcredential',
      'xgoogsignature',
      'xgoogcredential',
    ]),
  };
}

/** Slots of the clean-string memo (a power of two). */
const MEMO_SIZE = 256;
/** Strings longer than this are not memoised (comparing them costs more). */
const MEMO_MAX_LENGTH = 256;

/** Extra characters scrubbed past the cut of a long string; see `scrubAndCut`. */
const CUT_SLACK = 1024;

/**
 * Whether base64 `creds` decodes to printable `user:pass` text (RFC 7617).
 * Node's decoder ignores the padding and an incomplete last character, so
 * unpadded credentials and ones with a character too many (cut, or glued to
 * text) are checked by what their whole 4-character groups hold.
 */
function isBasicCredentials(creds: string): boolean {
  const text = Buffer.from(creds, 'base64').toString('utf8');
  if (!text.includes(':')) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0xfffd) return false;
  }
  return true;
}

/** Options of `createScrubber`. */
export interface ScrubberOptions {
  isSecretKey: (key: string) => boolean;
  maxStringLength: number;
  onRedaction: ((kind: RedactionKind) => void) | undefined;
}

/**
 * Builds `scrub(s)`: returns `s` itself (same string) when nothing matched.
 * All replacement callbacks are created here once, not per call.
 */
export function createScrubber(options: ScrubberOptions): (s: string) => string {
  const { isSecretKey, maxStringLength, onRedaction } = options;
  const count = onRedaction
    ? (kind: RedactionKind) => {
        try {
          onRedaction(kind);
        } catch {
          // A failing counter hook must not cost the log line.
        }
      }
    : undefined;
  const R = MARKERS.redacted;
  const {
    URL_CREDENTIALS,
    EMAIL,
    EMAIL_ENCODED,
    BEARER,
    BASIC,
    JWT,
    HEADER,
    VENDOR,
    VENDOR_HINT,
    PEM,
    KEY_VALUE,
    JSON_PAIR,
    COLON_PAIR,
    SCHEME_PREFIX,
    TRIGGER_CHARS,
    TRIGGERS,
    BEARER_WORD,
    BASIC_WORD,
    HEADER_WORD,
    JSON_SEP,
    BEARER_PROSE,
    URL_SECRET_PARAMS,
  } = compilePatterns();

  // A user name may hold an `@` itself (`postgres://ann@example.com:pw@db`).
  const urlCredentials = (m: string, scheme: string, userinfo: string): string => {
    // `host:8080/path@x`: a port and a path, not a password — leave it to the e-mail rule.
    if (/^[^:]*:\d{1,5}[/?#]/.test(userinfo)) return m;
    count?.('url_credentials');
    return `${scheme}${R}@`;
  };
  const email = (): string => {
    count?.('email');
    return MARKERS.email;
  };
  const bearer = (m: string, word: string, space: string, token: string): string => {
    // `[REDACTED]` is no token (`[`), so a replaced one never comes back here.
    if (BEARER_PROSE.has(token.replace(/=+$/, ''))) return m;
    count?.('bearer');
    return `${word}${space}${R}`;
  };
  const basic = (m: string, word: string, space: string, creds: string): string => {
    // Basic credentials are base64("user:pass"); checking that keeps prose
    // ("Basic configuration") intact.
    if (!isBasicCredentials(creds)) return m;
    count?.('basic');
    return `${word}${space}${R}`;
  };
  const jwt = (): string => {
    count?.('jwt');
    return MARKERS.jwt;
  };
  const vendor = (): string => {
    count?.('credential');
    return R;
  };
  const pem = (): string => {
    count?.('private_key');
    return R;
  };
  const header = (_m: string, name: string, sep: string): string => {
    count?.('header');
    return `${name}${sep}${R}`;
  };
  const keyValue = (m: string, prefix: string, key: string, sep: string, value: string): string => {
    if (!isSecretKey(key) && !(prefix !== '' && URL_SECRET_PARAMS.has(normalizeParam(key)))) {
      return m;
    }
    const quote = value.charAt(0);
    if (quote === '"' || quote === "'") {
      if (value.startsWith(`${quote}${R}`)) return m;
      count?.('key_value');
      return `${prefix}${key}${sep}${quote}${R}${quote}`;
    }
    const scheme = SCHEME_PREFIX.exec(value);
    const rest = scheme === null ? value : value.slice(scheme[0].length);
    if (rest === R) return m;
    count?.('key_value');
    return `${prefix}${key}${sep}${scheme === null ? '' : scheme[0]}${R}`;
  };
  const jsonPair = (m: string, key: string, sep: string, value: string): string => {
    if (value === `"${R}"` || !isSecretKey(key)) return m;
    count?.('key_value');
    return `"${key}"${sep}"${R}"`;
  };
  const colonPair = (m: string, q: string, key: string, sep: string, value: string): string => {
    if (!isSecretKey(key)) return m;
    const quote = value.charAt(0);
    const quoted = quote === "'" || quote === '"' || quote === '`';
    const inner = quoted ? value.slice(1, -1) : value;
    if (inner.startsWith('[REDACTED')) return m;
    count?.('key_value');
    return `${q}${key}${q}${sep}${quoted ? `${quote}${R}${quote}` : R}`;
  };

  // Direct-mapped memo of strings that came out unchanged. Only clean strings
  // are kept, so `onRedaction` still sees every redaction.
  const memo: Array<string | undefined> = new Array<string | undefined>(MEMO_SIZE);

  function slot(s: string): number {
    const n = s.length;
    return (
      (n * 31 + s.charCodeAt(0) * 7 + s.charCodeAt(n >> 1) * 3 + s.charCodeAt(n - 1)) &
      (MEMO_SIZE - 1)
    );
  }

  /**
   * Whether `s` has `key:value` without a space after the colon and with a
   * secret key (`password:123`, `{password:'x'}`, `password :x`,
   * `'password' :x`): the one shape of the colon rule that `TRIGGERS` leaves
   * out, found by a scan from each colon back over its key, since
   * `host:8080` and `12:30` are common and clean (running every rule on them
   * costs ~7× the scan).
   */
  function hasUnspacedSecretPair(s: string): boolean {
    for (let at = s.indexOf(':'); at !== -1; at = s.indexOf(':', at + 1)) {
      const next = s.charCodeAt(at + 1);
      if (next !== next || next <= 0x20 || (next === 0x2f && s.charCodeAt(at + 2) === 0x2f)) {
        continue; // end of string, a space or control character, or `://`
      }
      let end = at;
      while (end > 0 && isBlank(s.charCodeAt(end - 1))) end -= 1; // `key :`
      // `'key':` (a double quote is a trigger itself)
      if (s.charCodeAt(end - 1) === 0x27) end -= 1;
      let start = end;
      while (start > 0 && end - start < 64 && isKeyChar(s.charCodeAt(start - 1))) start -= 1;
      while (start < end && !isLetter(s.charCodeAt(start))) start += 1;
      if (start < end && isSecretKey(s.slice(start, end))) return true;
    }
    return false;
  }

  function mayHaveSecret(s: string): boolean {
    return TRIGGERS.test(s) || hasUnspacedSecretPair(s);
  }

  function scrubShort(s: string): string {
    if (s.length === 0) return s;
    const memoable = s.length <= MEMO_MAX_LENGTH;
    const i = memoable ? slot(s) : 0;
    if (memoable && memo[i] === s) return s;
    if (!TRIGGER_CHARS.test(s) || !mayHaveSecret(s)) {
      if (memoable) memo[i] = s;
      return s;
    }
    const out = applyRules(s);
    if (out === s && memoable) memo[i] = s;
    return out;
  }

  function applyRules(s: string): string {
    let out = s;
    if (out.indexOf('PRIVATE KEY') !== -1) out = out.replace(PEM, pem);
    if (out.indexOf('@') !== -1) {
      if (out.indexOf('://') !== -1) out = out.replace(URL_CREDENTIALS, urlCredentials);
      if (out.indexOf('@') !== -1) out = out.replace(EMAIL, email);
    }
    if (out.indexOf('%40') !== -1) out = out.replace(EMAIL_ENCODED, email);
    if (VENDOR_HINT.test(out)) out = out.replace(VENDOR, vendor);
    if (BEARER_WORD.test(out)) out = out.replace(BEARER, bearer);
    if (BASIC_WORD.test(out)) out = out.replace(BASIC, basic);
    if (out.indexOf('eyJ') !== -1) out = out.replace(JWT, jwt);
    if (HEADER_WORD.test(out)) out = out.replace(HEADER, header);
    if (out.indexOf('=') !== -1) out = out.replace(KEY_VALUE, keyValue);
    if (JSON_SEP.test(out)) out = out.replace(JSON_PAIR, jsonPair);
    if (out.indexOf(':') !== -1) out = out.replace(COLON_PAIR, colonPair);
    return out;
  }

  /**
   * A long string is cut to `maxStringLength + CUT_SLACK` before scrubbing
   * (bounding regex work on a 10 MB string) and to `maxStringLength` after.
   * Scrubbing before the final cut means a secret straddling the cut is
   * recognised whole and never leaks half; a secret crossing the slack
   * boundary starts after the final cut and is dropped with it. Whatever was
   * left out is marked, even when the replacements made the rest short.
   */
  function scrubAndCut(s: string): string {
    const head = s.slice(0, maxStringLength + CUT_SLACK);
    const scrubbed = mayHaveSecret(head) ? applyRules(head) : head;
    if (scrubbed.length <= maxStringLength && head.length === s.length) return scrubbed;
    let end = Math.min(maxStringLength, scrubbed.length);
    const c = scrubbed.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) end -= 1; // do not split a surrogate pair
    count?.('truncated');
    return `${scrubbed.slice(0, end)}${MARKERS.truncated} ${s.length} chars]`;
  }

  return function scrub(s: string): string {
    return s.length > maxStringLength ? scrubAndCut(s) : scrubShort(s);
  };
}

/** `[A-Za-z0-9_.-]`: a character of a key in the key/value rules. */
function isKeyChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e || c === 0x2d;
}

/** A space or a tab: what the colon rule allows around its colon. */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function isLetter(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/** A parameter name as `URL_SECRET_PARAMS` holds it: lowercase, no `-`, `_` or `.`. */
function normalizeParam(name: string): string {
  return name.toLowerCase().replace(/[-_.]/g, '');
}

/**
 * The shape of a value whose secrets `scrub` replaced, for error messages:
 * each replaced part becomes `…(N chars)` (its length), the rest is kept —
 * `authorization=Bearer abc…` → `authorization=Bearer …(41 chars)`. When the
 * replaced parts cannot be lined up with the original (a marker was in the
 * original too), the scrubbed string is returned as it is.
 */
export function shapeOf(original: string, scrubbed: string): string {
  if (scrubbed === original) return original;
  const literals = scrubbed.split(/\[REDACTED\]|\[EMAIL\]|\[JWT\]/);
  const first = literals[0] as string;
  if (!original.startsWith(first)) return scrubbed;
  let out = first;
  let pos = first.length;
  for (let i = 1; i < literals.length; i++) {
    const lit = literals[i] as string;
    const at =
      i === literals.length - 1
        ? original.endsWith(lit) && original.length - lit.length > pos
          ? original.length - lit.length
          : -1
        : lit === ''
          ? -1
          : original.indexOf(lit, pos + 1);
    if (at === -1) return scrubbed;
    out += `…(${at - pos} chars)${lit}`;
    pos = at + lit.length;
  }
  return out;
}
