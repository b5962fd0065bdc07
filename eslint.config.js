// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports flow one way: lib <- connectors <- subgraphs; sandboxes and the gateway build on lib only;
 * cli (the entry point) and tests may import anything. A rule per layer says what it may not import.
 */
const layer = (files, forbidden, why) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: forbidden.map((dir) => ({ group: [`**/${dir}/**`, `**/${dir}`], message: why })) },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '**/__generated__/**',
      'coverage/**',
      'test-output/**',
      'bench/results/**',
      'gateway/explorer/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  layer(
    ['lib/**'],
    ['connectors', 'sandboxes', 'subgraphs', 'gateway', 'cli'],
    'lib/ holds shared helpers and imports nothing above it.',
  ),
  // Per connector, so the rule can also name the other platforms (a later config replaces, not merges, a rule).
  ...['hubspot', 'mailchimp', 'shopify', 'meta'].map((platform) =>
    layer(
      [`connectors/${platform}/**`],
      [
        'sandboxes',
        'subgraphs',
        'gateway',
        'cli',
        ...['hubspot', 'mailchimp', 'shopify', 'meta'].filter((p) => p !== platform),
      ],
      'A connector speaks to its own platform only; it knows nothing of other platforms, sandboxes, subgraphs or the gateway.',
    ),
  ),
  layer(
    ['sandboxes/**'],
    ['connectors', 'subgraphs', 'gateway', 'cli'],
    'A sandbox implements the platform contract on its own; it must not borrow the connector it is tested against.',
  ),
  layer(
    ['subgraphs/**'],
    ['sandboxes', 'gateway', 'cli'],
    'A subgraph reaches platforms through connectors only and never depends on the gateway.',
  ),
  layer(
    ['gateway/**'],
    ['subgraphs', 'connectors', 'sandboxes', 'cli'],
    'The gateway talks to subgraphs over HTTP and never imports their internals.',
  ),
  {
    files: ['cli/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
