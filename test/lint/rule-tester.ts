/**
 * ESLint's own RuleTester, run under vitest: its `describe`/`it` hooks are
 * pointed at vitest's, so each valid and invalid case is one test.
 */
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

/** A RuleTester for JavaScript modules (espree, the default parser). */
export const jsTester = new RuleTester({
  languageOptions: { ecmaVersion: 2024, sourceType: 'module' },
});

/** A RuleTester for TypeScript (typescript-eslint's parser). */
export const tsTester = new RuleTester({
  languageOptions: { parser: tseslint.parser, ecmaVersion: 2024, sourceType: 'module' },
});
