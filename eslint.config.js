// ESLint flat config: typed TypeScript rules everywhere, and a fence around workflows/
// (deterministic code only: no Node built-ins, no side-effecting modules, activities by type only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'coverage/', '.test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      // Activities and handlers are async by contract even when their body is synchronous.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // No import circles: no module reaches itself through its runtime imports (type-only imports
    // are erased at build time and cannot change the order modules load in).
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS modules the Temporal SDK loads with require() (src/temporal/failure-converter.cjs).
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: { require: 'readonly', exports: 'writable', module: 'writable' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflow code must be deterministic: no Node built-ins. Do side effects in an activity.',
          })),
          patterns: [
            {
              group: ['**/activities', '**/activities/*', '**/activities/**'],
              allowTypeImports: true,
              message: 'Workflows import activities by type only and call them through proxyActivities.',
            },
            {
              group: [
                '**/src/config*', '**/src/logger*', '**/src/shutdown*', '**/src/organization/load*',
                '**/src/records/store*', '**/src/records/export*', '**/src/mail/**', '**/src/links/signer*',
                '**/src/api/**', '**/src/cli/**', '**/src/temporal/client*', '**/src/temporal/start*',
                '**/src/*/start*', '**/src/*/routes*', '**/src/*/page*', '**/src/*/cli*', '**/workers/**',
                '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing',
                'pg', '@electric-sql/pglite', 'nodemailer', 'pino', 'fastify', 'jose',
              ],
              allowTypeImports: true,
              message: 'Not workflow-safe: workflows may import process contracts, schemas and rules, src/common/**, src/forms/**, src/temporal/search-attributes.ts and @temporalio/workflow.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use a workflow timer loop.' },
        { name: 'process', message: 'No process access in workflow code.' },
        { name: 'fetch', message: 'Network calls belong in activities.' },
      ],
    },
  },
);
