import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { META_DEMO } from '../../platforms/meta/demo.js';
import type { RecordedRequest } from '../../sandboxes/kit/recorder.js';
import { eventually } from '../helpers/gateway-process.js';
import { startTestStack } from '../helpers/stack.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

const META_EVENTS = 'POST /{version}/{pixelId}/events';
const HUBSPOT_UPDATE = 'POST /crm/v3/objects/contacts/batch/update';

/** The demo's routing rules (events/demo-routing.yaml) on the whole stack: webhook in, action out. */
describe('the demo rules: a high-value order becomes a Purchase on the pixel', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ customers: 60 });
  });
  afterAll(async () => {
    await stack.close();
  });

  const sentToMeta = async () => {
    const response = await fetch(
      `${stack.origins.meta}/__sandbox/requests?endpoint=${encodeURIComponent(META_EVENTS)}`,
    );
    return ((await response.json()) as { requests: (RecordedRequest & { body: { data: unknown[] } })[] })
      .requests;
  };

  it('should send the order that reaches the threshold to the demo pixel once, and not the small one', async () => {
    const email = stack.world.customers.find((c) => c.shop)!.person.email;
    const big = shopifyOrder({ email, totalPrice: '249.90' });
    const small = shopifyOrder({ email, totalPrice: '19.90' });
    expect((await postWebhook(stack.origins.gateway, small)).status).toBe(200);
    expect((await postWebhook(stack.origins.gateway, big)).status).toBe(200);
    // Shopify redelivers: the event is stored once, so the action is recorded once.
    expect((await postWebhook(stack.origins.gateway, big)).body).toEqual({ accepted: 0, duplicates: 1 });
    const sent = await eventually(sentToMeta, (requests) => requests.length > 0);
    // Give a second, wrongly recorded action the time to be sent too.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const all = (await sentToMeta()).flatMap((r) => r.body.data);
    expect(sent[0]).toMatchObject({ status: 200, path: `/v25.0/${META_DEMO.assets.pixelId}/events` });
    expect(all).toEqual([
      expect.objectContaining({
        event_name: 'Purchase',
        event_id: `order-${big.orderId}`,
        action_source: 'system_generated',
        custom_data: { value: 249.9, currency: 'USD', order_id: String(big.orderId) },
      }),
    ]);
  });

  it('should set the lead status of a customer who unsubscribes, on the contact the graph names', async () => {
    const customer = stack.world.customers.find(
      (c) => c.crm.lifecycleStage === 'customer' && c.audience?.status === 'subscribed',
    )!;
    const posted = await fetch(`${stack.origins.mailchimp}/__sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'unsubscribe', email: customer.person.email }),
    });
    expect(posted.status).toBe(200);
    const updates = await eventually(
      async () => {
        const response = await fetch(
          `${stack.origins.hubspot}/__sandbox/requests?endpoint=${encodeURIComponent(HUBSPOT_UPDATE)}`,
        );
        return (
          (await response.json()) as { requests: (RecordedRequest & { body: { inputs: unknown[] } })[] }
        ).requests;
      },
      (requests) => requests.length > 0,
    );
    expect(updates.map((r) => [r.status, r.body.inputs])).toEqual([
      [200, [{ id: customer.crm.id, properties: { hs_lead_status: 'BAD_TIMING' }, objectWriteTraceId: '0' }]],
    ]);
  });
});
