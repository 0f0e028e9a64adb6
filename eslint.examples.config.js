// @ts-check
// The project's own ESLint plugin on its examples (run after `npm run build`):
//   npx eslint -c eslint.examples.config.js examples
import tseslint from 'typescript-eslint';
import stacklight from './dist/eslint-plugin.js';

export default [
  { ignores: ['**/node_modules/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, sourceType: 'module' },
  },
  ...stacklight.configs.recommended,
];
