/**
 * `stacklight/log-fields`: the object a log call passes uses the log line
 * schema's fields (`LOG_FIELDS` of `logging/schema.ts`) or the fields the
 * service declared (`logging.fields`, given to this rule as `fields`).
 * Secret-like keys are found with the redactor's own key rules
 * (`logging/secret-keys.ts`) and secret-looking literal values with its
 * scrubber, so what the linter flags is what the logger would redact.
 */
import type { Rule } from 'eslint';
import { LOG_FIELDS, LOG_LEVELS, TOP_LEVEL_FIELDS } from '../logging/schema.js';
import { createScrubber } from '../logging/scrub.js';
import { createSecretKeyMatcher, isEmailKey, normalizeKey } from '../logging/secret-keys.js';
import { keyName, memberPath, staticString, unwrap, type AnyNode } from './ast.js';

interface Options {
  /** The service's own declared fields (the keys of `logging.fields`). */
  fields?: string[];
  /**
   * Names of loggers: an identifier (`logger`), a property (`log` matches
   * `req.log`) or a dotted path (`telemetry.logger`), matched against the end
   * of the call's receiver. @default ['logger', 'log']
   */
  loggers?: string[];
  /** More keys to treat as secret (the redactor's `logging.redactKeys`). */
  secretKeys?: string[];
}

/** Keys the caller may set: every schema field not written by the logger, plus `err`. */
const CALLER_FIELDS: ReadonlySet<string> = new Set<string>([
  ...TOP_LEVEL_FIELDS.filter((f) => LOG_FIELDS[f].source !== 'logger'),
  'err',
]);
const LOGGER_FIELDS: ReadonlySet<string> = new Set<string>(
  TOP_LEVEL_FIELDS.filter((f) => LOG_FIELDS[f].source === 'logger'),
);
const METHODS: ReadonlySet<string> = new Set<string>([...LOG_LEVELS, 'child']);

/** `stacklight/log-fields`. */
export const logFields: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'Log calls use the log schema fields or declared fields, and never log secrets or e-mail addresses',
    },
    hasSuggestions: true,
    schema: [
      {
        type: 'object',
        properties: {
          fields: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          loggers: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          secretKeys: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      secretKey:
        'Field "{{key}}" holds a secret (the logger would write [REDACTED]): do not log it; log a non-secret reference instead (an id, or whether it was present).',
      emailKey:
        'Field "{{key}}" holds an e-mail address (the logger would write [EMAIL]): log userId instead.',
      secretValue: 'This value looks like {{kind}} (the logger would redact it): do not log it.',
      reserved:
        'Field "{{key}}" is written by the logger itself (from init() options); remove it here.',
      unknownField:
        'Field "{{key}}" is not in the log schema, so the logger moves it under "extra" and counts a schema violation: {{advice}}.',
      unresolvable:
        'This field name is computed or spread at run time, so it cannot be checked: write the fields out.',
      rename: 'Rename to "{{name}}".',
    },
  },

  create(context) {
    const options = (context.options[0] ?? {}) as Options;
    const declared = new Set(options.fields ?? []);
    const loggers = options.loggers ?? ['logger', 'log'];
    const isSecretKey = createSecretKeyMatcher(options.secretKeys ?? []);
    // The redactor's scrubber, asked which kinds it would replace in a literal.
    let kinds: string[] = [];
    const scrub = createScrubber({
      isSecretKey,
      maxStringLength: 100_000,
      onRedaction: (kind) => kinds.push(kind),
    });
    const byNormal = new Map<string, string>();
    for (const f of [...CALLER_FIELDS, ...declared]) byNormal.set(normalizeKey(f), f);

    const isLogger = (receiver: AnyNode): boolean => {
      const path = memberPath(receiver);
      if (path === undefined) return false;
      return loggers.some((l) => path === l || path.endsWith(`.${l}`));
    };

    const checkObject = (obj: AnyNode): void => {
      for (const prop of obj.properties as AnyNode[]) {
        const key = prop.type === 'Property' ? keyName(prop) : undefined;
        if (key === undefined) {
          context.report({ node: prop as unknown as Rule.Node, messageId: 'unresolvable' });
          continue;
        }
        const keyNode = prop.key as unknown as Rule.Node;
        if (isEmailKey(key)) {
          context.report({ node: keyNode, messageId: 'emailKey', data: { key } });
          continue;
        }
        if (isSecretKey(key)) {
          context.report({ node: keyNode, messageId: 'secretKey', data: { key } });
          continue;
        }
        const value = staticString(prop.value as AnyNode);
        if (value !== undefined) {
          kinds = [];
          scrub(value);
          if (kinds.length > 0) {
            context.report({
              node: prop.value as Rule.Node,
              messageId: 'secretValue',
              data: { kind: describeKind(kinds[0]!) },
            });
          }
        }
        if (LOGGER_FIELDS.has(key)) {
          context.report({ node: keyNode, messageId: 'reserved', data: { key } });
          continue;
        }
        if (CALLER_FIELDS.has(key) || declared.has(key)) continue;
        const near = byNormal.get(normalizeKey(key));
        context.report({
          node: keyNode,
          messageId: 'unknownField',
          data: {
            key,
            advice:
              near !== undefined
                ? `the schema spells it "${near}"`
                : 'use a schema field, or declare it in logging.fields and in this rule\'s "fields" option',
          },
          ...(near !== undefined
            ? {
                suggest: [
                  {
                    messageId: 'rename',
                    data: { name: near },
                    fix: (fixer: Rule.RuleFixer) =>
                      prop.shorthand === true
                        ? fixer.replaceText(prop as unknown as Rule.Node, `${near}: ${key}`)
                        : fixer.replaceText(
                            keyNode,
                            /^[A-Za-z_$][\w$]*$/.test(near) ? near : `'${near}'`,
                          ),
                  },
                ],
              }
            : {}),
        });
      }
    };

    return {
      CallExpression(node: Rule.Node) {
        const n = node as unknown as AnyNode;
        const callee = unwrap(n.callee as AnyNode);
        if (callee?.type !== 'MemberExpression' || callee.computed) return;
        const method = (callee.property as AnyNode).name as string;
        if (!METHODS.has(method) || !isLogger(callee.object as AnyNode)) return;
        const first = unwrap((n.arguments as AnyNode[])[0]);
        if (first?.type === 'ObjectExpression') checkObject(first);
      },
    };
  },
};

function describeKind(kind: string): string {
  switch (kind) {
    case 'email':
      return 'an e-mail address';
    case 'jwt':
      return 'a JSON Web Token';
    case 'bearer':
    case 'basic':
      return 'an Authorization credential';
    default:
      return `a secret (${kind})`;
  }
}
