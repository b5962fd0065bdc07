// @ts-check
import { existsSync, readdirSync } from 'node:fs';
import { URL } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports flow one way: lib <- platforms (each platform's client, webhooks, sandbox, descriptor) <-
 * subgraphs (by role, each using one platform's client); the gateway builds on lib and reads
 * platforms through their registry; cli (the entry point) and tests may import anything. A rule per
 * layer says what it may not import.
 */

/**
 * The platform folders, `platforms/<name>/` with a client: the rules below are written per folder,
 * read from the tree so a new platform is covered without naming it here.
 */
const PLATFORMS = readdirSync(new URL('platforms/', import.meta.url), { withFileTypes: true })
  .filter(
    (entry) => entry.isDirectory() && existsSync(new URL(`platforms/${entry.name}/client/`, import.meta.url)),
  )
  .map((entry) => entry.name)
  .sort();
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
    ['platforms', 'sandboxes', 'subgraphs', 'gateway', 'cli'],
    'lib/ holds shared helpers and imports nothing above it.',
  ),
  // Each platform folder: its client, webhooks and sandbox speak for it alone. Per platform, so the
  // rule can name the other platforms (a later config replaces, not merges, a rule).
  ...PLATFORMS.flatMap((platform) => {
    const others = PLATFORMS.filter((p) => p !== platform);
    return [
      layer(
        [`platforms/${platform}/**`],
        ['subgraphs', 'gateway', 'cli', ...others],
        'A platform folder speaks for its own platform only; it knows nothing of other platforms, subgraphs or the gateway.',
      ),
      layer(
        [`platforms/${platform}/client/**`, `platforms/${platform}/webhooks/**`],
        ['subgraphs', 'gateway', 'cli', 'sandboxes', 'sandbox', ...others],
        "A platform's client and webhook code know nothing of sandboxes (a fake must stay apart from what it tests).",
      ),
      layer(
        [`platforms/${platform}/sandbox/**`],
        ['subgraphs', 'gateway', 'cli', 'client', 'webhooks', ...others],
        "A sandbox implements the platform contract on its own; it must not borrow its platform's client it is tested against.",
      ),
    ];
  }),
  layer(
    ['platforms/kit/**', 'platforms/*.ts'],
    ['subgraphs', 'gateway', 'cli'],
    'The platform registry and kit describe platforms; they never depend on the subgraphs or the gateway.',
  ),
  layer(
    ['sandboxes/**'],
    ['platforms/*/client', 'subgraphs', 'gateway', 'cli'],
    'A sandbox implements the platform contract on its own; it must not borrow the client it is tested against.',
  ),
  layer(
    ['subgraphs/**'],
    ['sandboxes', 'platforms/*/sandbox', 'gateway', 'cli'],
    "A subgraph reaches its platform through the platform's client only and never depends on the gateway.",
  ),
  layer(
    ['gateway/**'],
    ['subgraphs', 'platforms/*/client', 'sandboxes', 'platforms/*/sandbox', 'cli'],
    'The gateway talks to subgraphs over HTTP and never imports their internals; it knows platforms only through platforms/registry.ts.',
  ),
  {
    files: ['cli/**', 'bench/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
);
