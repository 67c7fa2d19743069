// Lint: the recommended TypeScript rules plus a few that keep a root tool honest, and the layout's
// boundaries (docs/architecture.md): the planner is pure, and only the command line imports src/cli.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const IO = ['node:*', 'fs', 'child_process', 'fs-xattr', 'execa', 'chokidar', 'pino', 'pino-pretty', 'cli-progress'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'vm-tests/.cache/**', 'bench/.work/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always'],
      // Paths are raw bytes: matching control characters is routine here.
      'no-control-regex': 'off',
    },
  },
  {
    // The core never depends on the command line: src/cli parses and renders, nothing below it imports it.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', 'src/main.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/cli/*', '**/cli/**'], message: 'only src/cli (and src/main.ts) import src/cli' }] }],
    },
  },
  {
    // The planner is a pure function of its inputs: no filesystem, no processes, no logging.
    files: ['src/plan/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: IO, message: 'src/plan is pure: no I/O module' },
            { group: ['../*', '!../model', '../model/*', '!../model/*', '!../config', '../config/*', '!../config/schema.js'], message: 'src/plan imports only model/ and config/schema.js' },
          ],
        },
      ],
    },
  },
);
