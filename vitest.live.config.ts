import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/**
 * `npm run test:live` only (scripts/test-live.ts): the platform contracts against the real
 * platforms. Its own include (`*.live.ts`), so `npm test` never runs them; the graphql pin as in
 * vitest.config.ts.
 */
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }] },
  test: {
    include: ['test/live/**/*.live.ts'],
    env: { APOLLO_TELEMETRY_DISABLED: 'true' },
    testTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
