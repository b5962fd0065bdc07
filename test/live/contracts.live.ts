import { describe, expect, it } from 'vitest';
import { PLATFORM_CONTRACTS } from '../../platforms/contracts.js';
import { runContract } from '../helpers/contracts.js';

/**
 * `npm run test:live`: each platform client's contract against the real platform, for the
 * platforms `scripts/test-live.ts` found credentials for (it names them in LIVE_PLATFORMS and says
 * why it left the others out). Not part of `npm test`: the file's name is not `*.test.ts`, and only
 * vitest.live.config.ts includes it. Reads only, a handful of calls per platform.
 */
const chosen = new Set((process.env['LIVE_PLATFORMS'] ?? '').split(',').filter(Boolean));
const contracts = PLATFORM_CONTRACTS.filter((contract) => chosen.has(contract.platform));

describe('live platform contracts', () => {
  it('should have been given at least one platform to check', () => {
    expect(contracts.map((c) => c.platform).sort()).toEqual([...chosen].sort());
    expect(contracts.length).toBeGreaterThan(0);
  });

  for (const contract of contracts) {
    it(`should answer ${contract.platform}'s calls in the shapes its contract describes`, async () => {
      const results = await runContract(contract, contract.liveConnection(process.env));
      for (const result of results)
        // The report of a live run: which calls answered, and how much came back.
        // eslint-disable-next-line no-console
        console.log(
          `${contract.platform} ${result.call}: ${result.problems.length === 0 ? 'ok' : 'FAILED'}${result.items === null ? '' : ` (${result.items} items)`}`,
        );
      expect(results.filter((r) => r.problems.length > 0)).toEqual([]);
    });
  }
});
