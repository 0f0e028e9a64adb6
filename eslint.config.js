// @ts-check
/**
 * Layers of src/ (DESIGN.md, "Rules of the house"), held by `no-restricted-imports`
 * below. From the bottom up:
 *
 * - core: `metrics/`, `logging/`, `tracing/`, `context.ts`, and the leaves they share
 *   (`errors.ts`, `version.ts`, `http-methods.ts`, `shutdown.ts`, `crash-handler.ts`,
 *   `self-check.ts`, `util/`, `internals/`). Core rooms may import one another; they never
 *   import `config/`, an adapter, a tool, a composition root or an entry. What they need
 *   from the configuration comes in a setup object (`LoggerSetup`, `TracingSetup`).
 * - `config/`: options and environment → `ResolvedConfig`. Imports core only.
 * - adapters `middleware/`, `jobs/`, `events/`, `clients/` and tools `slo/` (SLO
 *   definitions, rules, SLI recorders) and `lint/` (ESLint rules, exposition linter): import
 *   core, `types.ts` (the `Telemetry` type) and `config/kinds.ts` (option checks); never one
 *   another, `config/resolve.ts` or `config/settings.ts` (the resolved configuration
 *   reaches them through the handle), a composition root or an entry.
 * - composition roots: `init.ts` (options → `Telemetry`), `cli/` (the command line),
 *   `testing/` (test handles made by `init()`): import any layer below, never an entry.
 * - entries: `index.ts`, `fastify.ts`, `express.ts`, `bullmq.ts`, `testing.ts`,
 *   `eslint-plugin.ts`, `cli.ts` re-export by name; nothing in src/ imports them.
 * - `types.ts`, the public types: type-only imports of any layer.
 *
 * A shared piece that two rooms of one layer need moves down a layer.
 */
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CORE = ['metrics/', 'logging/', 'tracing/', 'context.ts'];
const LEAVES = [
  'errors.ts',
  'version.ts',
  'http-methods.ts',
  'shutdown.ts',
  'crash-handler.ts',
  'self-check.ts',
  'util/',
  'internals/',
];
const ADAPTERS = ['middleware/', 'jobs/', 'events/', 'clients/'];
const TOOLS = ['slo/', 'lint/'];
const ROOTS = ['init.ts', 'cli/', 'testing/'];
const ENTRIES = [
  'index.ts',
  'fastify.ts',
  'express.ts',
  'bullmq.ts',
  'testing.ts',
  'eslint-plugin.ts',
  'cli.ts',
];
/** The resolved configuration; `config/kinds.ts` (option checks) is open to adapters. */
const RESOLVED_CONFIG = ['config/resolve.ts', 'config/settings.ts'];

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Import specifier of `target` (a room `x/` or a file `x.ts` of src/) from a file `depth` folders below src/. */
const specifierOf = (target, depth) =>
  (depth === 0 ? '\\./' : '(\\.\\./){' + depth + '}') +
  (target.endsWith('/') ? escape(target) : escape(target.replace(/\.ts$/, '.js')) + '$');

/**
 * `no-restricted-imports` for the files of `rooms`: none of `forbidden`. One block per folder
 * depth, so that a specifier resolves to one place (`../x/` from src/a/, `../../x/` from src/a/b/).
 */
function layer(rooms, forbidden, message) {
  return rooms.flatMap((room) => {
    const depths = room.endsWith('/') ? [1, 2, 3] : [0];
    return depths.map((depth) => ({
      files: [room.endsWith('/') ? `src/${room}${'*/'.repeat(depth - 1)}*.ts` : `src/${room}`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^(${forbidden
                  .filter((t) => t !== room)
                  .map((t) => specifierOf(t, depth))
                  .join('|')})`,
                message: `${message} (layers: eslint.config.js).`,
              },
            ],
          },
        ],
      },
    }));
  });
}

const layers = [
  ...layer(
    [...CORE, ...LEAVES],
    ['config/', ...ADAPTERS, ...TOOLS, ...ROOTS, ...ENTRIES],
    'Core rooms never import config/, adapters, tools, init.ts, cli/, testing/ or an entry; take what is needed in a setup object',
  ),
  ...layer(['config/'], [...ADAPTERS, ...TOOLS, ...ROOTS, ...ENTRIES], 'config/ imports core only'),
  ...[...ADAPTERS, ...TOOLS].flatMap((room) =>
    layer(
      [room],
      [...ADAPTERS, ...TOOLS, ...RESOLVED_CONFIG, ...ROOTS, ...ENTRIES],
      'Adapters and tools never import one another, the resolved configuration, init.ts, cli/, testing/ or an entry; move a shared piece down to core, take Telemetry from types.ts',
    ),
  ),
  ...layer(ROOTS, ENTRIES, 'Nothing in src/ imports an entry point'),
  {
    files: ['src/types.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.',
              allowTypeImports: true,
              message: 'types.ts holds public types only: import type (layers: eslint.config.js).',
            },
          ],
        },
      ],
    },
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'bench/results/**',
      '.tmp/**',
      'docs/.vitepress/dist/**',
      'docs/.vitepress/cache/**',
      'docs/api/**',
    ],
  },
  // Stryker's sandboxes (npm run test:mutation), present while it runs.
  { ignores: ['.stryker-tmp*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        URL: 'readonly',
        globalThis: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Errors always carry a message.
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name=/Error$/][arguments.length=0]',
          message: 'Errors need a message.',
        },
        {
          selector:
            'CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(only|skip)$/]',
          message: 'No focused or skipped tests.',
        },
      ],
    },
  },
  ...layers,
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
