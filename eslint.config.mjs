// ESLint flat config: typescript-eslint's type-checked rules over the TypeScript the project runs
// (CDK app, Lambdas, local cloud, scripts, tests). Type-aware, so a promise nobody awaits or a
// promise handed where a void callback is expected fails `npm run lint`.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Generated or vendored: the synthesized cloud assembly, the synth cache under
    // node_modules/.cache, and the AWS service models the local cloud loads.
    ignores: ['cdk.out/**', 'dist/**', 'node_modules/**', 'local/models/**', 'coverage/**', '.local-runs/**'],
  },
  {
    files: ['{bin,lib,lambdas,local,scripts,test}/**/*.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // recommendedTypeChecked has these; named here because CI relies on them.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      // A leading underscore marks a parameter a signature requires but the body does not use
      // (tsc's noUnusedParameters follows the same convention).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Off: an async function with no await is how this code implements a promise-returning
      // interface (SDK hash digest, Lambda-shaped stubs, fake clients) while turning a throw into
      // a rejection; no-floating-promises and no-misused-promises already catch promise misuse.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read templates, ASL and fixtures as parsed JSON (any) and match with jest's asymmetric
    // matchers (expect.objectContaining and kin are typed any); typing every probe would add casts
    // that check nothing. The promise and unused-code rules stay on.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    // The local cloud reads parsed JSON: templates, and request bodies whose members validate.ts has
    // already type-checked against the service model (a wrong type is SerializationException). Such
    // values are `unknown`, which no-base-to-string ignores, until `?? ''` or `!== undefined` narrows
    // them to `{}`, which it reports; String() there turns a model string into a TypeScript string.
    files: ['local/**/*.ts'],
    rules: { '@typescript-eslint/no-base-to-string': 'off' },
  },
  {
    // The one CommonJS helper (a child process the tests spawn): plain JS rules, no type information.
    files: ['scripts/**/*.cjs'],
    extends: [eslint.configs.recommended],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', process: 'readonly', module: 'writable' },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
);
