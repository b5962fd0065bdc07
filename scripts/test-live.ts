import { spawnSync } from 'node:child_process';
import { PLATFORM_CONTRACTS } from '../platforms/contracts.js';

/**
 * `npm run test:live`: runs each platform client's contract (platforms/<name>/contract.ts) against
 * the real platform whose credentials are in the environment, the variables the role subgraphs
 * read. A platform without them is skipped, and this script says so and which variable is
 * missing: the skip is a line here, never a silent `.skip`. Exits 0 when nothing could run (there
 * is nothing to check), else with vitest's code.
 */
const env = process.env;
const chosen: string[] = [];
for (const contract of PLATFORM_CONTRACTS) {
  const missing = contract.liveVariables.filter((name) => !env[name]);
  if (missing.length > 0) {
    process.stdout.write(`skip ${contract.platform}: ${missing.join(', ')} not set\n`);
    continue;
  }
  process.stdout.write(`run  ${contract.platform}: ${contract.calls.length} calls\n`);
  chosen.push(contract.platform);
}
if (chosen.length === 0) {
  process.stdout.write(
    'No platform has credentials in the environment: nothing to check against a live API.\n',
  );
  process.exit(0);
}
const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.live.config.ts'],
  { stdio: 'inherit', env: { ...env, LIVE_PLATFORMS: chosen.join(',') } },
);
process.exit(run.status ?? 1);
