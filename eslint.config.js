// Lint rules for the whole tree: typescript-eslint's recommended set, plus the type-aware rules that
// catch real bugs in async and numeric code. Formatting is prettier's job (npm run format).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/', 'dist-bench/', 'node_modules/', 'coverage/', 'tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A switch on a union without a `default:` names every member. Switches on a field's
      // shape have no default and end in unreachableShape(), so the compiler forces a new shape
      // to be handled everywhere.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  // Layers (README "Architecture"): src/ is the library, vmstate/ the catalog written with it,
  // src/cli the commands on top. No import runs upward.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli', '**/cli/**'], message: 'only src/cli may import src/cli' },
            {
              regex: '(^|/)vmstate(/|$)',
              message:
                'the library knows no catalog: take it as a value (a Platform, an AnalysisCatalog); src/cli wires vmstate/ in',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['vmstate/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/cli', '**/cli/**'],
              message: 'the catalog is below the commands: vmstate/ never imports src/cli',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
