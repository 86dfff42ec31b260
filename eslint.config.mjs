import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import nx from '@nx/eslint-plugin';

// Dependency direction from DESIGN.md: apps -> platform (adapters) -> domain -> contracts.
const moduleBoundaries = (allow) => ({
  allow,
  depConstraints: [
    { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
    { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts', 'type:domain'] },
    {
      sourceTag: 'type:platform',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform'],
    },
    {
      sourceTag: 'type:app',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform'],
    },
    {
      sourceTag: 'type:host',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform', 'type:app'],
    },
    {
      sourceTag: 'type:e2e',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:platform'],
    },
  ],
});

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.kafka/**',
      '.nx/**',
      '.rollgate/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries([])],
    },
  },
  {
    // The embedded host composes the five apps into one process; tests may boot apps too.
    // `rollgate audit rebuild` replays the services' own projections (apps/cli/src/audit/read-models.ts).
    files: [
      'apps/embedded/**/*.ts',
      '**/*.int-spec.ts',
      '**/*.e2e-spec.ts',
      'apps/cli/src/audit/read-models.ts',
    ],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries(['@rollgate/app-*'])] },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
