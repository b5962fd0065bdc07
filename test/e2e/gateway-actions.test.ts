import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';
import { generateGatewayKeys, publicJwksOf } from '../../lib/auth/gateway-token.js';
import { subgraphUrlVariable } from '../../lib/graphql/subgraph-names.js';
import { META_DEMO } from '../../platforms/meta/demo.js';
import { platformNamed } from '../../platforms/registry.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import type { RecordedRequest } from '../../sandboxes/kit/recorder.js';
import { DEMO_WEBHOOK_SECRETS } from '../../sandboxes/webhooks/index.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import type { CliProcess } from '../helpers/cli-process.js';
import { eventually, startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startSandboxProcess, TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { startSubgraphProcess } from '../helpers/subgraph-process.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

const META_EVENTS = 'POST /{version}/{pixelId}/events';
const HUBSPOT_UPDATE = 'POST /crm/v3/objects/contacts/batch/update';
const WORLD = { SANDBOX_SEED: '11', SANDBOX_CUSTOMERS: '80', SANDBOX_ANCHOR_DATE: TEST_ANCHOR_DATE };

/**
 * Two rules with actions: one on the order alone (a Purchase on the demo pixel), one on the
 * customer's lifecycle stage, which the gateway reads through the graph (the `crm` subgraph) before
 * it can route, and then writes back to the CRM.
 */
const RULES = `rules:
  - name: high-value orders
    channel: high-value-orders
    when: { types: [ORDER_PLACED], orderTotalAtLeast: '200.00' }
    actions:
      - { platform: meta, type: conversion, event: Purchase, pixelId: '${META_DEMO.assets.pixelId}' }
  - name: orders of customers
    channel: customer-orders
    when: { types: [ORDER_PLACED], customer: { lifecycleStages: [CUSTOMER] } }
    actions:
      - { platform: hubspot, type: update-contact, properties: { hs_lead_status: OPEN_DEAL } }
`;

async function recorded<T>(origin: string, endpoint: string): Promise<(RecordedRequest & { body: T })[]> {
  const response = await fetch(`${origin}/__sandbox/requests?endpoint=${encodeURIComponent(endpoint)}`);
  return ((await response.json()) as { requests: (RecordedRequest & { body: T })[] }).requests;
}

/**
 * The standalone `gateway` command running the event jobs itself (no workers, the embedded log):
 * it runs the routing rules' actions as `npm start` does, on the platforms whose variables it is
 * given. Every part is its own OS process: the gateway, the `crm` subgraph it reads customers
 * through, and the HubSpot and Meta sandboxes the actions write to.
 */
describe('the standalone gateway runs the routing rules actions', () => {
  const processes: CliProcess[] = [];
  let gateway: GatewayProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'gateway-actions-'));
  let hubspot: CliProcess;
  let meta: CliProcess;

  beforeAll(async () => {
    const rules = join(dir, 'rules.yaml');
    writeFileSync(rules, RULES);
    const keys = await generateGatewayKeys();
    [hubspot, meta] = await Promise.all([
      startSandboxProcess('hubspot', WORLD),
      startSandboxProcess('meta', WORLD),
    ]);
    processes.push(hubspot, meta);
    const hubspotEnv = {
      HUBSPOT_BASE_URL: platformNamed('hubspot').sandbox.baseUrl(hubspot.origin),
      HUBSPOT_ACCESS_TOKEN: DEMO_CREDENTIALS.hubspot.accessToken,
    };
    const crm = await startSubgraphProcess('crm', {
      ...hubspotEnv,
      GATEWAY_TOKEN_JWKS: JSON.stringify(publicJwksOf(keys.privateJwk)),
    });
    processes.push(crm);
    gateway = await startGatewayProcess({
      clientsFile: 'gateway/auth/demo-clients.json',
      readyKey: DEMO_API_KEYS.admin,
      env: {
        GATEWAY_TOKEN_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
        DATA_DIR: dir,
        ROUTING_RULES_FILE: rules,
        SHOPIFY_WEBHOOK_SECRETS: DEMO_WEBHOOK_SECRETS.shopify,
        [subgraphUrlVariable('crm')]: `${crm.origin}/graphql`,
        // The platforms the actions run on, as their subgraphs would read them.
        ...hubspotEnv,
        META_BASE_URL: platformNamed('meta').sandbox.baseUrl(meta.origin),
        META_ACCESS_TOKEN: META_DEMO.credentials.accessToken,
        META_AD_ACCOUNT_ID: META_DEMO.credentials.adAccountId,
      },
    });
  }, 90_000);

  afterAll(async () => {
    await gateway?.stop();
    for (const part of processes) {
      if (part.child.exitCode === null) part.child.kill('SIGTERM');
      await part.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('should send a Purchase to the pixel and set the lead status of the customer the graph names', async () => {
    const world = generateWorld({
      seed: Number(WORLD.SANDBOX_SEED),
      customers: Number(WORLD.SANDBOX_CUSTOMERS),
      anchorDate: WORLD.SANDBOX_ANCHOR_DATE,
    });
    const customer = world.customers.find((c) => c.crm.lifecycleStage === 'customer')!;
    const order = shopifyOrder({ email: customer.person.email, totalPrice: '249.90' });
    expect((await postWebhook(gateway!.origin, order)).status).toBe(200);

    const purchases = await eventually(
      () => recorded<{ data: unknown[] }>(meta.origin, META_EVENTS),
      (requests) => requests.length > 0,
    );
    const updates = await eventually(
      () => recorded<{ inputs: unknown[] }>(hubspot.origin, HUBSPOT_UPDATE),
      (requests) => requests.length > 0,
    );
    expect(purchases.map((r) => [r.status, r.path])).toEqual([
      [200, `/v25.0/${META_DEMO.assets.pixelId}/events`],
    ]);
    expect(purchases[0]!.body.data).toEqual([
      expect.objectContaining({
        event_name: 'Purchase',
        event_id: `order-${order.orderId}`,
        custom_data: { value: 249.9, currency: 'USD', order_id: String(order.orderId) },
      }),
    ]);
    expect(updates.map((r) => [r.status, r.body.inputs])).toEqual([
      [200, [{ id: customer.crm.id, properties: { hs_lead_status: 'OPEN_DEAL' }, objectWriteTraceId: '0' }]],
    ]);
    // The gateway says where the actions run, and on which platforms.
    expect(
      gateway!.logs().find((line) => line.msg === "routing rules' actions run here")?.['actionPlatforms'],
    ).toEqual(expect.arrayContaining(['hubspot', 'meta']));
  }, 60_000);
});
