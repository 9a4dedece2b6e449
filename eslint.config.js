import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

/**
 * The layer rules live here so that a wrong-direction import fails `npm run check`:
 * shared/ imports neither Node nor the DOM side, the renderer neither Node nor electron, the core
 * never electron, and nobody but the renderer imports renderer/. (The tsconfig of each layer
 * also loads only that layer's types, so a Node import in shared/ or renderer/ fails to type-check
 * as well.)
 */
const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'crypto', 'net', 'http', 'https', 'events', 'stream', 'url', 'util', 'tls', 'dns', 'worker_threads', 'process', 'buffer', 'timers', 'timers/*', 'readline', 'zlib'];
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
const group = (list, message) => ({ group: list, message });

export default ts.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'coverage/', 'test-results/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['shared/**'],
    rules: restrict([
      group(NODE_BUILTINS, 'shared/ runs on both sides: no Node modules.'),
      group(['electron', '**/electron/**', '**/renderer/**'], 'shared/ imports only shared/ and pure packages.'),
    ]),
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: restrict([
      group(NODE_BUILTINS, 'The renderer has no Node: ask the core through the contract (shared/contract.ts).'),
      group(['electron', '**/electron/**'], 'The renderer talks to the core only through the contract client (lib/api.ts).'),
    ]),
  },
  {
    files: ['electron/core/**'],
    rules: restrict([
      group(['electron'], 'electron/core/ runs in plain Node (CLI, browser mode): only the doors may import electron.'),
      group(['**/renderer/**'], 'Only the renderer imports renderer/.'),
    ]),
  },
  {
    files: ['electron/main/**', 'electron/cli/**', 'electron/serve/**', 'test/**', 'build/**'],
    rules: restrict([group(['**/renderer/**'], 'Only the renderer imports renderer/.')]),
  },
);
