// Lint rules for the whole kiosk. The renderer block is the process boundary: code that runs in
// the untrusted web page may not reach Node, Electron or the device libraries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const nodeOnlyModules = [
  'electron',
  'serialport',
  'node-hid',
  'better-sqlite3-multiple-ciphers',
  'pino',
  'ws',
];
const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'child_process',
  'net',
  'http',
  'https',
  'crypto',
  'stream',
  'worker_threads',
  'url',
  'events',
  'util',
  'buffer',
  'process',
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'release/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'bin/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: { ...globals.node },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']",
          message: 'Focused tests must not land.',
        },
      ],
    },
  },
  {
    files: [
      'app/renderer/**',
      'app/web/**',
      'app/common/**',
      'app/contract/**',
      'server/console/**',
    ],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: nodeOnlyModules.map((name) => ({
            name,
            message:
              'Renderer and shared code runs in the untrusted page: it may not use Node-only or device modules.',
          })),
          patterns: [
            {
              group: ['node:*', ...nodeBuiltins],
              message: 'Renderer and shared code may not import Node built-ins.',
            },
            {
              group: [
                '**/core/**',
                '**/main/**',
                '**/host/**',
                '**/native/**',
                '**/cli/**',
                '**/server/*.js',
                '**/server/testing/**',
              ],
              message: 'The renderer talks to the core only through window.kiosk.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
