// Lint rules for the whole tree: typescript-eslint's recommended set, plus the type-aware rules that
// catch real bugs in async and numeric code. Formatting is prettier's job (npm run format).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/** Module specifiers of the layers above: src/cli, and the catalog (vmstate/, or the package itself). */
const CLI = '(^|/)cli(/|$)';
const CATALOG = '(^|/)vmstate(/|$)|^vmstate-lab(/|$)';

/**
 * A config block forbidding `files` to load modules matching any `forbidden` regex, whichever way
 * the module is loaded. A regex in an esquery selector cannot hold a `/`, so it is written \x2f.
 */
function layerRules({ files, ignores = [], forbidden }) {
  const selectorRegex = (regex) => regex.replaceAll('/', '\\x2f');
  const calls = forbidden.flatMap(({ regex, message }) => {
    const r = selectorRegex(regex);
    return [
      { selector: `CallExpression[callee.name='require'][arguments.0.value=/${r}/]`, message },
      {
        selector: `CallExpression[callee.object.name='require'][arguments.0.value=/${r}/]`,
        message,
      },
      { selector: `ImportExpression[source.value=/${r}/]`, message },
      // A computed specifier cannot be checked; one starting with a forbidden literal part can.
      {
        selector: `ImportExpression > TemplateLiteral > TemplateElement[value.raw=/${r}/]`,
        message,
      },
      {
        selector: `CallExpression[callee.name='require'] > TemplateLiteral > TemplateElement[value.raw=/${r}/]`,
        message,
      },
    ];
  });
  return {
    files,
    ignores,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: forbidden.map(({ regex, message }) => ({ regex, message })) },
      ],
      'no-restricted-syntax': ['error', ...calls],
    },
  };
}

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
  // src/cli the commands on top. No import runs upward: not a static import or export, not
  // `import x = require()`, and not a `require()` or `import()` call either (no-restricted-syntax
  // sees those, which no-restricted-imports does not). tests/lint-layers.test.ts proves each fails.
  layerRules({
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    forbidden: [
      { regex: CLI, message: 'only src/cli may import src/cli' },
      {
        regex: CATALOG,
        message:
          'the library knows no catalog: take it as a value (a Platform, an AnalysisCatalog); src/cli wires vmstate/ in',
      },
    ],
  }),
  layerRules({
    files: ['vmstate/**/*.ts'],
    forbidden: [
      { regex: CLI, message: 'the catalog is below the commands: vmstate/ never imports src/cli' },
    ],
  }),
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
