import tseslint from 'typescript-eslint';

/** The layering of docs/architecture.md, as import rules: a capability reaches another only through its public index. */
const boundaries = (extra = []) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: ['**/apps/**', '../../apps/*'], message: 'libs never import an application.' },
        { group: ['@kura/*/src/*', '**/libs/*/src/**'], message: "Import another capability through its index ('@kura/<name>')." },
        ...extra,
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'coverage/**', 'bench/**', '*.js', '*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      // A promise nobody awaits fails silently: await it, return it, or mark it `void` on purpose.
      '@typescript-eslint/no-floating-promises': 'error',
      'no-console': 'error',
    },
  },
  { files: ['libs/**/*.ts'], rules: boundaries() },
  { files: ['libs/common/**/*.ts'], rules: boundaries([{ group: ['@kura/*'], message: 'libs/common depends on no capability.' }]) },
  { files: ['libs/audit/**/*.ts'], rules: boundaries([{ group: ['@kura/identity', '@kura/documents', '@kura/retention'], message: 'The audit trail depends on no business capability (Actor is in @kura/common).' }]) },
  {
    files: ['libs/retention/**/*.ts'],
    rules: boundaries([{ group: ['@kura/documents'], importNames: ['DocumentsRepository', 'DocumentEntity', 'DocumentVersionEntity'], message: 'Retention changes documents through DocumentLifecycle, never their repository or entities.' }]),
  },
  { files: ['test/**/*.ts', '**/*.spec.ts', 'apps/cli/**/*.ts'], rules: { 'no-console': 'off' } },
);
