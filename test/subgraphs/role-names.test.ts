import { describe, expect, it } from 'vitest';
import { PLATFORM_SUBGRAPHS } from '../../lib/graphql/subgraph-names.js';
import { ROLE_SUBGRAPHS } from '../../subgraphs/registry.js';

/**
 * The role names are written twice on purpose: `lib/` and `gateway/` need them as types and must not
 * import `subgraphs/` (imports flow one way). This keeps the two lists from drifting apart.
 */
describe('the role subgraph names', () => {
  it('should list in lib/graphql/subgraph-names.ts exactly the roles subgraphs/registry.ts builds, in order', () => {
    expect(ROLE_SUBGRAPHS.map((role) => role.name)).toEqual([...PLATFORM_SUBGRAPHS]);
  });
});
