// @ts-check
import { existsSync, readdirSync } from 'node:fs';
import { URL } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports flow one way: lib <- platforms (each platform's client, webhooks, sandbox, descriptor) <-
 * subgraphs (by role, each using one platform's client); the event pipeline (events/) builds on lib
 * and reads platforms through their registry; the gateway builds on both and serves GraphQL;
 * deliveries (webhooks to subscribers) build on lib alone; cli (the entry point) and tests may
 * import anything. A rule per layer says what it may not import.
 */

/**
 * The platform folders, `platforms/<name>/` with a client or webhooks (the company site has only
 * webhooks and its demo traffic): the rules below are written per folder, read from the tree so a
 * new platform is covered without naming it here.
 */
const PLATFORMS = readdirSync(new URL('platforms/', import.meta.url), { withFileTypes: true })
  .filter(
    (entry) =>
      entry.isDirectory() &&
      ['client', 'webhooks'].some((part) =>
        existsSync(new URL(`platforms/${entry.name}/${part}/`, import.meta.url)),
      ),
  )
  .map((entry) => entry.name)
  .sort();
/**
 * `files` may not import from the folders `forbidden` names (anywhere in the path), except from
 * the folders in `except` (`lib/events` is not the top-level `events/`).
 */
const layer = (files, forbidden, why, except = []) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((dir) => ({
          group: [
            `**/${dir}/**`,
            `**/${dir}`,
            ...except.flatMap((allowed) => [`!**/${allowed}`, `!**/${allowed}/**`]),
          ],
          message: why,
        })),
      },
    ],
  },
});
/** The top-level event pipeline, as a forbidden folder for the layers below it. */
const EVENTS = 'events';
const NOT_LIB_EVENTS = ['lib/events'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '**/__generated__/**',
      'coverage/**',
      'test-output/**',
      'bench/results/**',
      'gateway/explorer/dist/**',
      '.server/**',
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
    ['platforms', 'sandboxes', 'subgraphs', 'gateway', 'deliveries', 'cli'],
    'lib/ holds shared helpers and imports nothing above it.',
  ),
  layer(
    ['deliveries/**'],
    ['platforms', 'sandboxes', 'subgraphs', 'gateway', EVENTS, 'cli'],
    'deliveries/ builds on lib/ alone: the event pipeline and the management API call into it, never the other way.',
    NOT_LIB_EVENTS,
  ),
  // Each platform folder: its client, webhooks and sandbox speak for it alone. Per platform, so the
  // rule can name the other platforms (a later config replaces, not merges, a rule).
  ...PLATFORMS.flatMap((platform) => {
    const others = PLATFORMS.filter((p) => p !== platform);
    return [
      layer(
        [`platforms/${platform}/**`],
        ['subgraphs', 'gateway', EVENTS, 'cli', ...others],
        'A platform folder speaks for its own platform only; it knows nothing of other platforms, subgraphs, the event pipeline or the gateway.',
        NOT_LIB_EVENTS,
      ),
      layer(
        [`platforms/${platform}/client/**`, `platforms/${platform}/webhooks/**`],
        ['subgraphs', 'gateway', EVENTS, 'cli', 'sandboxes', 'sandbox', ...others],
        "A platform's client and webhook code know nothing of sandboxes (a fake must stay apart from what it tests).",
        NOT_LIB_EVENTS,
      ),
      layer(
        [`platforms/${platform}/sandbox/**`],
        ['subgraphs', 'gateway', EVENTS, 'cli', 'client', 'webhooks', ...others],
        "A sandbox implements the platform contract on its own; it must not borrow its platform's client or webhook verifier it is tested against.",
        // lib/webhooks/sign.ts is a sender's half, written apart from the verifiers.
        [...NOT_LIB_EVENTS, 'lib/webhooks'],
      ),
    ];
  }),
  layer(
    ['platforms/kit/**', 'platforms/*.ts'],
    ['subgraphs', 'gateway', EVENTS, 'cli'],
    'The platform registry and kit describe platforms; they never depend on the subgraphs, the event pipeline or the gateway.',
    NOT_LIB_EVENTS,
  ),
  layer(
    ['sandboxes/**'],
    ['platforms/*/client', 'subgraphs', 'gateway', EVENTS, 'cli'],
    'A sandbox implements the platform contract on its own; it must not borrow the client it is tested against.',
    NOT_LIB_EVENTS,
  ),
  layer(
    ['events/**'],
    ['gateway', 'subgraphs', 'platforms/*/client', 'sandboxes', 'platforms/*/sandbox', 'cli'],
    'The event pipeline runs in the gateway or a worker process: it imports nothing of the gateway (which builds on it), reads platforms only through platforms/registry.ts, and reaches the graph and the subgraphs over the functions it is given.',
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
