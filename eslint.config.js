// Type-aware lint: the rules that keep a long-running daemon honest (no floating promises,
// exhaustive switches over our unions) come from typescript-eslint's typed rules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * One `no-restricted-imports` block per layering rule: `files` may not import a path matching
 * `forbid` (relative import specifiers, matched like .gitignore patterns), and the message says why.
 */
function boundaries(rules) {
  // A file matched by several blocks gets the last block's rule only (flat config replaces rule
  // options), so each block carries every rule whose folder contains its own.
  const folder = (glob) => glob.replace(/\*\*$/, '');
  const within = (inner, outer) =>
    inner.files.every((f) => outer.files.some((o) => folder(f).startsWith(folder(o))));
  return rules.map((rule) => ({
    files: rule.files,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: rules
            .filter((outer) => within(rule, outer))
            .map(({ forbid, why }) => ({ group: forbid, message: `layering: ${why}.` })),
        },
      ],
    },
  }));
}

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // Layering: who may import whom (README, Layout). Rooms depend inward only: clients and shared
  // code never reach into the daemon, connectors never into the engine or each other's rooms.
  ...boundaries([
    {
      files: ['shared/**'],
      forbid: ['**/daemon/**', '**/tui/**'],
      why: 'shared/ is what the daemon and its clients have in common: it imports neither',
    },
    {
      files: ['tui/**'],
      forbid: ['**/daemon/**'],
      why: 'etlctl and etl-console talk to the daemon over the protocol (shared/); put what both need in shared/',
    },
    {
      files: ['daemon/**'],
      forbid: ['**/tui/**'],
      why: 'the daemon never imports its clients; put what both need in shared/',
    },
    {
      files: ['daemon/destinations/**'],
      forbid: ['**/engine/**', '**/sources/**', '**/scheduler/**', '**/control/**'],
      why: 'a destination receives what it needs through destination.ts; shared DuckDB helpers live in daemon/duckdb/',
    },
    {
      files: ['daemon/sources/**'],
      forbid: ['**/engine/**', '**/destinations/**', '**/scheduler/**', '**/control/**'],
      why: 'a source receives what it needs through source.ts',
    },
    {
      files: ['daemon/config/**', 'daemon/duckdb/**', 'daemon/logging/**', 'daemon/state/**'],
      forbid: ['**/engine/**', '**/scheduler/**', '**/control/**', '**/destinations/**', '**/sources/**'],
      why: 'config, duckdb, logging and state are the inner rooms the others build on',
    },
    {
      files: ['daemon/engine/**'],
      forbid: ['**/scheduler/**', '**/control/**'],
      why: 'the engine executes attempts; the scheduler and the control socket drive it, not the reverse',
    },
  ]),
  {
    // Tests may use loose assertions on parsed JSON; production code may not.
    files: ['test/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
