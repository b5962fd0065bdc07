import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_CONTRACTS } from '../../platforms/contracts.js';
import { PLATFORMS } from '../../platforms/registry.js';
import { runContract } from '../helpers/contracts.js';
import { startSandbox, type RunningSandbox } from '../helpers/sandbox.js';

/**
 * Each platform client's contract (platforms/<name>/contract.ts) against its sandbox: the same
 * calls and shapes `npm run test:live` checks against the real platform, so a sandbox that drifts
 * from what the client expects fails here, and a platform that drifts fails there.
 */
describe.each(PLATFORM_CONTRACTS.map((contract) => [contract.platform, contract] as const))(
  'contract of %s against its sandbox',
  (platform, contract) => {
    let sandbox: RunningSandbox;
    beforeAll(async () => {
      sandbox = await startSandbox(platform as never, { customers: 40 });
    });
    afterAll(async () => {
      await sandbox?.close();
    });

    it('should answer every call in the shape the contract describes', async () => {
      const descriptor = PLATFORMS.find((candidate) => candidate.name === platform)!;
      const connection = descriptor.sandbox.connection(sandbox.origin);
      const results = await runContract(contract, connection);
      expect(results.map((r) => r.call)).toEqual(contract.calls.map((call) => call.name));
      expect(results.filter((r) => r.problems.length > 0)).toEqual([]);
      // A shape check on empty lists proves little: the sandbox's first call lists something.
      expect(results[0]!.items ?? 1).toBeGreaterThan(0);
    });
  },
);
