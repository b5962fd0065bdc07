import { describe, expect, it } from 'vitest';
import { PLATFORM_SUBGRAPHS } from '../../lib/graphql/subgraph-names.js';
import { ROLE_DECLARATIONS, loadRoleSubgraphs } from '../../subgraphs/registry.js';

/**
 * The role names reach `lib/` and `gateway/` through `lib/__generated__/vocabulary.ts` (`npm run
 * codegen`), since they must not import `subgraphs/` (imports flow one way); the freshness test
 * keeps that file equal to the declarations, and this one each declaration equal to its code.
 */
describe('the role subgraph names', () => {
  it('should give lib the roles subgraphs/roles.ts declares, in order', () => {
    expect(ROLE_DECLARATIONS.map((role) => role.name)).toEqual([...PLATFORM_SUBGRAPHS]);
  });

  it('should load, for each declaration, the role of that name reading that platform with those variables', async () => {
    const roles = await loadRoleSubgraphs();
    expect(roles.map((role) => [role.name, role.platform, role.env])).toEqual(
      ROLE_DECLARATIONS.map((declaration) => [declaration.name, declaration.platform, declaration.env]),
    );
  });
});
