import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { PLATFORM_NAMES } from '../../platforms/registry.js';

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

  it("should stop the gateway from importing a platform's client or sandbox, and let it read the registry", async () => {
    const [platform] = PLATFORM_NAMES;
    const source = `import { x } from '../platforms/${platform}/client/protocol.js';\nimport { y } from '../platforms/${platform}/sandbox/index.js';\nimport { PLATFORMS } from '../platforms/registry.js';\nexport const z = [x, y, PLATFORMS];\n`;
    expect(await violations('gateway/probe.ts', source)).toHaveLength(2);
  });

  it('should stop the event pipeline from importing the gateway, and let it read lib and the registry', async () => {
    const source =
      "import { EVENT_PROCESSOR } from '../gateway/identity.js';\nimport { EVENT_TYPES } from '../lib/events/event.js';\nimport { PLATFORMS } from '../platforms/registry.js';\nexport const x = [EVENT_PROCESSOR, EVENT_TYPES, PLATFORMS];\n";
    expect(await violations('events/probe.ts', source)).toEqual([
      expect.stringContaining('imports nothing of the gateway'),
    ]);
  });

  it('should let the gateway build on the event pipeline', async () => {
    const source =
      "import { startEventPipeline } from '../events/runtime.js';\nexport const x = startEventPipeline;\n";
    expect(await violations('gateway/probe.ts', source)).toEqual([]);
  });

  it("should keep the event pipeline out of a platform's folder, but not lib/events", async () => {
    const [platform] = PLATFORM_NAMES;
    const source =
      "import { createWebhookIngest } from '../../../events/ingest.js';\nimport { EVENT_TYPES } from '../../../lib/events/event.js';\nexport const x = [createWebhookIngest, EVENT_TYPES];\n";
    expect(await violations(`platforms/${platform}/webhooks/probe.ts`, source)).toEqual([
      expect.stringContaining('know nothing of sandboxes'),
    ]);
  });

  describe.each(PLATFORM_NAMES)('platforms/%s/', (platform) => {
    const other = PLATFORM_NAMES.find((name) => name !== platform) ?? platform;

    it("should stop its client from importing a subgraph, another platform's client or its own sandbox", async () => {
      const source = `import type { CrmContext } from '../../../subgraphs/crm/context.js';\nimport { p } from '../../${other}/client/protocol.js';\nimport { s } from '../sandbox/index.js';\nexport type X = CrmContext;\nexport const q = [p, s];\n`;
      expect(await violations(`platforms/${platform}/client/probe.ts`, source)).toHaveLength(3);
    });

    it('should stop its sandbox from borrowing the client it is tested against', async () => {
      expect(
        await violations(
          `platforms/${platform}/sandbox/probe.ts`,
          "import { records } from '../client/records.js';\nexport const f = records;\n",
        ),
      ).toEqual([expect.stringContaining('must not borrow')]);
    });

    it('should let its sandbox use the shared sandbox kit and the generated world', async () => {
      const source =
        "import { RollingWindow } from '../../../sandboxes/kit/limits.js';\nimport type { World } from '../../../sandboxes/world/world.js';\nexport type W = World;\nexport const r = RollingWindow;\n";
      expect(await violations(`platforms/${platform}/sandbox/probe.ts`, source)).toEqual([]);
    });
  });

  it('should let deliveries build on lib only, and keep lib from importing deliveries', async () => {
    const allowed =
      "import { registry } from '../lib/metrics.js';\nimport type { EventLog } from '../lib/events/log/types.js';\nexport type L = EventLog;\nexport const r = registry;\n";
    expect(await violations('deliveries/probe.ts', allowed)).toEqual([]);
    const above =
      "import { x } from '../gateway/server.js';\nimport { y } from '../events/runtime.js';\nexport const z = [x, y];\n";
    expect(await violations('deliveries/probe.ts', above)).toEqual([
      expect.stringContaining('deliveries/ builds on lib/ alone'),
      expect.stringContaining('deliveries/ builds on lib/ alone'),
    ]);
    const upward =
      "import { startDeliveries } from '../../deliveries/index.js';\nexport const s = startDeliveries;\n";
    expect(await violations('lib/events/probe.ts', upward)).toHaveLength(1);
  });

  it('should let a subgraph import its platform client and lib, and not a sandbox', async () => {
    const allowed =
      "import { HubSpotConnector } from '../../platforms/hubspot/client/connector.js';\nimport { money } from '../../lib/money.js';\nexport const x = [HubSpotConnector, money];\n";
    expect(await violations('subgraphs/crm/probe.ts', allowed)).toEqual([]);
    const sandbox = "import { s } from '../../platforms/hubspot/sandbox/index.js';\nexport const x = s;\n";
    expect(await violations('subgraphs/crm/probe.ts', sandbox)).toHaveLength(1);
  });
});
