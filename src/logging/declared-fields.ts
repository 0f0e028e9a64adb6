import { ConfigError } from '../errors.js';
import {
  DECLARED_FIELD_TYPES,
  LOG_FIELDS,
  type DeclaredFieldType,
  type LogFieldDeclarations,
} from './schema.js';
import { createSecretKeyMatcher, isEmailKey } from './secret-keys.js';

/**
 * A declared field name: a letter or `_`, then letters, digits, `_` or `-`,
 * at most 64 characters. No dots (dotted names are the nested `error.*`
 * members of the schema), nothing a JSON key would need to escape.
 */
const NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** Keys the logger reads itself besides the schema's fields. */
const TAKEN = new Set<string>(['err', '__proto__', 'constructor', 'prototype']);

const TYPES: ReadonlySet<string> = new Set(DECLARED_FIELD_TYPES);

/**
 * Checks `logging.fields` and returns a frozen copy. Each problem is a
 * {@link ConfigError} naming the field (`logging.fields.tenant`):
 * - not an object of name → one of `DECLARED_FIELD_TYPES`;
 * - a name that is not a plain identifier;
 * - a name of the log schema (`status`, `error`, `ts`…) or `err`: the schema
 *   already says what it holds;
 * - a name the redactor treats as a secret (`sessionToken`, `apiKeyEnc`, a
 *   name of `logging.redactKeys`): its value would only ever be `[REDACTED]`;
 * - a name for an e-mail address (`email`, `userEmail`): the value would only
 *   ever be `[EMAIL]`; log `userId` instead.
 *
 * @param isSecretKey the redactor's key rule (with the service's `redactKeys`).
 */
export function checkFieldDeclarations(
  given: unknown,
  isSecretKey: (key: string) => boolean = createSecretKeyMatcher(),
): LogFieldDeclarations {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError(
      'logging.fields',
      given,
      `an object of field names to types (${typeList()}), e.g. { tenant: 'string' }`,
    );
  }
  const out: Record<string, DeclaredFieldType> = {};
  for (const [name, type] of Object.entries(given)) {
    const option = `logging.fields.${name}`;
    if (!NAME.test(name)) {
      throw new ConfigError(
        'logging.fields',
        name,
        'an object whose keys are field names of letters, digits, "_" and "-" (starting with a letter or "_", at most 64 characters)',
      );
    }
    if (!TYPES.has(type as string)) throw new ConfigError(option, type, `one of ${typeList()}`);
    if (Object.hasOwn(LOG_FIELDS, name) || TAKEN.has(name)) {
      throw new ConfigError(
        'logging.fields',
        name,
        'an object of names that are not fields of the log schema (its fields are typed already: see LOG_FIELDS)',
      );
    }
    if (isSecretKey(name)) {
      throw new ConfigError(
        'logging.fields',
        name,
        'an object of names the redactor does not treat as secrets (a value under this name is always written as [REDACTED])',
      );
    }
    if (isEmailKey(name)) {
      throw new ConfigError(
        'logging.fields',
        name,
        'an object of names that do not name an e-mail address (e-mail addresses are always written as [EMAIL]; log userId instead)',
      );
    }
    out[name] = type as DeclaredFieldType;
  }
  return Object.freeze(out);
}

function typeList(): string {
  return DECLARED_FIELD_TYPES.map((t) => `"${t}"`).join(', ');
}
