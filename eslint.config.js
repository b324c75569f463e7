// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.eventuate/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
  // Dependencies point one way (shared/DESIGN.md): src/ is the core and imports no framework and no
  // other layer; the server and the client build on src/ alone; only cli/ may import all three.
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          { name: 'fastify', message: 'src/ is the core shared by server and client: no Fastify here' },
          { name: 'kafkajs', message: 'src/ is the core shared by server and client: no kafkajs here' },
        ],
        patterns: [
          { group: ['@fastify/*'], message: 'src/ is the core shared by server and client: no Fastify here' },
          { group: ['**/client', '**/client/**', '**/event-store-server', '**/event-store-server/**', '**/cli', '**/cli/**'], message: 'src/ imports no other layer' },
        ],
      }],
    },
  },
  {
    files: ['event-store-server/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/client', '**/client/**', '**/cli', '**/cli/**'], message: 'the server builds on src/ only; the CLI and the client are its clients' }],
      }],
    },
  },
  {
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'fastify', message: 'the client runs in users\' services: no Fastify here' }],
        patterns: [{ group: ['**/event-store-server', '**/event-store-server/**', '**/cli', '**/cli/**'], message: 'the client builds on src/ only' }],
      }],
    },
  },
  // The examples are written as a user's project: the library only through the package's entry points
  // (tsconfig.json's `paths` map them to the sources here). Their tests may also use test/'s harness.
  {
    files: ['examples/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^(\\.\\./)+(src|client|event-store-server|cli|bench|test)(/|$)', message: 'examples import eventuate-local-ts, eventuate-local-ts/client, /server or /testing, as a user\'s project does' }],
      }],
    },
  },
  {
    files: ['examples/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: '^(\\.\\./)+(src|client|event-store-server|cli|bench)(/|$)', message: 'examples import eventuate-local-ts, eventuate-local-ts/client, /server or /testing, as a user\'s project does (tests may use test/)' }],
      }],
    },
  },
  // The console's browser script: ES modules, type-checked by tsc (checkJs), which knows the DOM's names.
  { files: ['event-store-server/console/assets/**/*.js'], languageOptions: { sourceType: 'module' }, rules: { 'no-undef': 'off' } },
  // The config files themselves are CommonJS.
  { files: ['*.js', 'event-store-server/console/build.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
