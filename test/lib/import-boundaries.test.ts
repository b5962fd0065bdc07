import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The layering rule is code, not prose: prove the linter rejects an import against the flow. */
describe('import boundaries', () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const violations = async (filePath: string, source: string) => {
    const [result] = await eslint.lintText(source, { filePath });
    return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  };

  it('should stop the gateway from importing a subgraph', async () => {
    expect(
      await violations(
        'gateway/probe.ts',
        "import { resolvers } from '../subgraphs/crm/resolvers.js';\nexport const r = resolvers;\n",
      ),
    ).toEqual([expect.stringContaining('The gateway talks to subgraphs over HTTP')]);
  });

  it('should stop a connector from importing a subgraph or another connector', async () => {
    const source =
      "import type { CrmContext } from '../../subgraphs/crm/context.js';\nimport { hubspotProtocol } from '../hubspot/protocol.js';\nexport type X = CrmContext;\nexport const p = hubspotProtocol;\n";
    expect(await violations('connectors/shopify/probe.ts', source)).toHaveLength(2);
  });

  it('should stop a sandbox from borrowing the connector it is tested against', async () => {
    expect(
      await violations(
        'sandboxes/hubspot/probe.ts',
        "import { toCrmCustomer } from '../../connectors/hubspot/records.js';\nexport const f = toCrmCustomer;\n",
      ),
    ).toHaveLength(1);
  });

  it('should let a subgraph import its connector and lib', async () => {
    const source =
      "import { HubSpotConnector } from '../../connectors/hubspot/connector.js';\nimport { money } from '../../lib/money.js';\nexport const x = [HubSpotConnector, money];\n";
    expect(await violations('subgraphs/crm/probe.ts', source)).toEqual([]);
  });
});
