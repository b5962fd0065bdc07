import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (`main`) and ESM (`module`). Node and tsx load the CJS build for everyone;
    // Vite would pick the ESM one for our files while Apollo's CJS code keeps the other, and two
    // copies of graphql cannot share a schema. Pin the one Node uses.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Tests that construct @apollo/gateway themselves make no call home either (see
    // lib/config/apollo-telemetry.ts); test/e2e/no-egress.test.ts checks the processes we start.
    env: { APOLLO_TELEMETRY_DISABLED: 'true' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own servers on free ports; forks keep their sockets apart.
    pool: 'forks',
    reporters: ['default'],
  },
});
