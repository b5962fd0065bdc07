import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTS, type Stack } from '../../cli/stack.js';
import { PLATFORM_NAMES, type PlatformName as Platform } from '../../platforms/registry.js';
import type { Customer } from '../../sandboxes/world/world.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';

/**
 * `POST /__sandbox/webhooks` on the whole stack: the sandbox applies the event to its state, sends
 * the signed webhook to the gateway, the event processor invalidates the subgraphs' cached records,
 * and the graph then says what the webhook said.
 */

interface Posted {
  status: number;
  body: {
    code?: string;
    error?: string;
    issues?: string[];
    type?: string;
    customer?: { id: string; email: string };
    applied?: Record<string, unknown>;
    webhooks?: {
      source: string;
      topic: string;
      url: string;
      payload: unknown;
      delivered: boolean;
      status: number | null;
      retrying: boolean;
    }[];
  };
}

const CUSTOMER = `customer(id: $id) {
  id lifecycleStage emailSubscription { status } ordersCount lifetimeValue { amount currency } lastOrderAt
}`;
/** Each read its own document: the gateway's response cache keys entries by the operation text. */
let reads = 0;
const freshRead = () => `query Read${++reads}($id: ID!) { ${CUSTOMER} }`;

interface CustomerData {
  id: string;
  lifecycleStage: string | null;
  emailSubscription: { status: string } | null;
  ordersCount: number;
  lifetimeValue: { amount: string; currency: string } | null;
  lastOrderAt: string | null;
}

/** Cents of a decimal amount string, so sums are exact. */
const cents = (amount: string | undefined) => Math.round(Number(amount ?? '0') * 100);

describe('POST /__sandbox/webhooks: the sandboxes, their webhooks and the graph tell one story', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  async function post(platform: Platform, body: unknown, raw?: string): Promise<Posted> {
    const response = await fetch(`${stack.origins[platform]}/__sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: raw ?? JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Posted['body'] };
  }

  async function read(id: string, query = freshRead()): Promise<CustomerData> {
    const response = await graphql<{ customer: CustomerData }>(
      stack.gatewayUrl,
      query,
      { id },
      as('personalization-service'),
    );
    expect(response.body.errors).toBeUndefined();
    return response.body.data!.customer;
  }

  /** Every event the gateway received has been processed: caches invalidated, event delivered. */
  async function processed(): Promise<void> {
    await expect
      .poll(async () => (await stack.eventLog.stats()).pending, { timeout: 10_000, interval: 25 })
      .toBe(0);
  }

  const someone = (where: (c: Customer) => boolean): Customer => {
    const found = stack.world.customers.find(where);
    if (!found) throw new Error('the test world has no such customer');
    return found;
  };

  it('should count a posted order in ordersCount and lifetimeValue (a new query shows it; the same query is cached)', async () => {
    const buyer = someone(
      (c) => c.shop !== undefined && (stack.world.ordersByCustomer.get(c.person.index)?.length ?? 0) > 0,
    );
    const query = freshRead();
    const before = await read(buyer.crm.id, query);

    const posted = await post('shopify', { type: 'orders/create', customerId: buyer.crm.id });
    expect(posted.status).toBe(200);
    const order = posted.body.applied?.['order'] as {
      id: number;
      totalPrice: string;
      financialStatus: string;
    };
    expect(order.financialStatus).toBe('paid');
    expect(posted.body.applied).toMatchObject({
      ordersCount: before.ordersCount + 1,
      newShopCustomer: false,
    });
    expect(posted.body.webhooks).toEqual([
      expect.objectContaining({
        source: 'shopify',
        topic: 'orders/create',
        url: `${stack.origins.gateway}/webhooks/shopify`,
        delivered: true,
        status: 200,
        retrying: false,
      }),
    ]);
    expect(posted.body.webhooks?.[0]?.payload).toMatchObject({
      id: order.id,
      email: buyer.person.email,
      total_price: order.totalPrice,
    });
    await processed();

    const after = await read(buyer.crm.id);
    expect(after.ordersCount).toBe(before.ordersCount + 1);
    expect(cents(after.lifetimeValue?.amount)).toBe(
      cents(before.lifetimeValue?.amount) + cents(order.totalPrice),
    );
    expect(after.lifetimeValue?.amount).toBe(posted.body.applied?.['totalSpent']);
    const createdAt = (posted.body.webhooks?.[0]?.payload as { created_at: string }).created_at;
    expect(after.lastOrderAt).not.toBe(before.lastOrderAt);
    expect(Date.parse(after.lastOrderAt ?? '')).toBe(Date.parse(createdAt));
    // The gap the README states: the gateway's response cache is not invalidated by events, so the
    // very same operation is answered from it until its max-age runs out.
    expect(await read(buyer.crm.id, query)).toEqual(before);
  });

  it('should make a first-time buyer a shop customer: customers/create, then orders/create, and the graph counts the order', async () => {
    const newcomer = someone((c) => c.shop === undefined);
    const before = await read(newcomer.crm.id);
    expect(before.ordersCount).toBe(0);
    const posted = await post('shopify', {
      type: 'orders/create',
      email: newcomer.person.email.toUpperCase(),
    });
    expect(posted.status).toBe(200);
    expect(posted.body.applied).toMatchObject({ ordersCount: 1, newShopCustomer: true });
    expect(posted.body.webhooks?.map((w) => [w.topic, w.delivered])).toEqual([
      ['customers/create', true],
      ['orders/create', true],
    ]);
    await processed();
    const after = await read(newcomer.crm.id);
    expect(after.ordersCount).toBe(1);
    expect(after.lifetimeValue?.amount).toBe(
      (posted.body.applied?.['order'] as { totalPrice: string }).totalPrice,
    );
  });

  it("should set the graph's lifecycleStage to the one the contact.propertyChange event carries", async () => {
    const lead = someone((c) => c.crm.lifecycleStage === 'lead');
    expect((await read(lead.crm.id)).lifecycleStage).toBe('LEAD');

    const posted = await post('hubspot', {
      type: 'contact.propertyChange',
      customerId: lead.crm.id,
      lifecycleStage: 'opportunity',
    });
    expect(posted.status).toBe(200);
    expect(posted.body.applied).toEqual({ lifecycleStage: { from: 'lead', to: 'opportunity' } });
    expect(posted.body.webhooks?.[0]).toMatchObject({
      source: 'hubspot',
      topic: 'contact.propertyChange',
      delivered: true,
    });
    await processed();

    const history = await graphql<{
      events: {
        edges: {
          node: {
            properties: { propertyValue?: string };
            customerId: string;
            customer: { lifecycleStage: string };
          };
        }[];
      };
    }>(
      stack.gatewayUrl,
      `
        query StageEvents {
          events(types: [CONTACT_UPDATED], first: 10) {
            edges {
              node {
                properties
                customerId
                customer {
                  lifecycleStage
                }
              }
            }
          }
        }
      `,
      {},
      as('personalization-service'),
    );
    expect(history.body.errors).toBeUndefined();
    const event = history.body
      .data!.events.edges.map((e) => e.node)
      .find((e) => e.customerId === lead.crm.id);
    expect(event?.properties.propertyValue).toBe('opportunity');
    // The event's own customer, read through the graph now, is at the stage the event reported.
    expect(event?.customer.lifecycleStage).toBe('OPPORTUNITY');
    expect((await read(lead.crm.id)).lifecycleStage).toBe('OPPORTUNITY');
  });

  it('should show CLEANED in the graph after a Mailchimp cleaned event, and refuse to subscribe the address again', async () => {
    const member = someone((c) => c.audience?.status === 'subscribed');
    expect((await read(member.crm.id)).emailSubscription?.status).toBe('SUBSCRIBED');

    const posted = await post('mailchimp', { type: 'cleaned', email: member.person.email });
    expect(posted.status).toBe(200);
    expect(posted.body.applied).toEqual({ status: { from: 'subscribed', to: 'cleaned' } });
    expect(posted.body.webhooks?.[0]).toMatchObject({
      source: 'mailchimp',
      topic: 'cleaned',
      // The Mailchimp URL's secret is not echoed.
      url: `${stack.origins.gateway}/webhooks/mailchimp`,
      payload: { type: 'cleaned', 'data[reason]': 'hard', 'data[email]': member.person.email },
      delivered: true,
    });
    await processed();
    expect((await read(member.crm.id)).emailSubscription?.status).toBe('CLEANED');

    const again = await post('mailchimp', { type: 'subscribe', customerId: member.crm.id });
    expect(again).toMatchObject({ status: 409, body: { code: 'TRANSITION_NOT_ALLOWED' } });
    expect(again.body.error).toMatch(/is cleaned; Mailchimp sends subscribe only for members who are/);
    expect(member.audience?.status).toBe('cleaned');
  });

  it('should refuse a lifecycle stage that moves backwards with 409, changing nothing', async () => {
    const customer = someone((c) => c.crm.lifecycleStage === 'customer');
    const refused = await post('hubspot', {
      type: 'contact.propertyChange',
      customerId: customer.crm.id,
      lifecycleStage: 'lead',
    });
    expect(refused).toEqual({
      status: 409,
      body: {
        code: 'TRANSITION_NOT_ALLOWED',
        error: `Contact ${customer.crm.id} is at lifecycle stage customer; HubSpot only moves a stage forward, to evangelist, other.`,
      },
    });
    expect(customer.crm.lifecycleStage).toBe('customer');
    expect((await read(customer.crm.id)).lifecycleStage).toBe('CUSTOMER');
  });

  it('should answer bad bodies with 400 and a code, an unknown customer with 404', async () => {
    const id = stack.world.customers[0]!.crm.id;
    const cases: [Platform, unknown, number, string, RegExp][] = [
      [
        'shopify',
        ['orders/create'],
        400,
        'INVALID_WEBHOOK_REQUEST',
        /^The body must be a JSON object such as/,
      ],
      [
        'shopify',
        { customerId: id },
        400,
        'INVALID_WEBHOOK_REQUEST',
        /^`type` is required: one of orders\/create\.$/,
      ],
      [
        'shopify',
        { type: 'orders/paid', customerId: id },
        400,
        'UNKNOWN_EVENT_TYPE',
        /expected one of orders\/create/,
      ],
      [
        'shopify',
        { type: 'cleaned', customerId: id },
        400,
        'EVENT_TYPE_NOT_SENT_HERE',
        /^cleaned is sent by the mailchimp sandbox/,
      ],
      [
        'meta',
        { type: 'orders/create', customerId: id },
        400,
        'EVENT_TYPE_NOT_SENT_HERE',
        /this sandbox sends the gateway no webhooks/,
      ],
      ['shopify', { type: 'orders/create' }, 400, 'INVALID_WEBHOOK_REQUEST', /exactly one of `customerId`/],
      [
        'shopify',
        { type: 'orders/create', customerId: id, email: 'a@example.com' },
        400,
        'INVALID_WEBHOOK_REQUEST',
        /exactly one of/,
      ],
      ['shopify', { type: 'orders/create', customerId: 'ten' }, 400, 'INVALID_WEBHOOK_REQUEST', /problem/],
      [
        'hubspot',
        { type: 'contact.propertyChange', customerId: id, lifecycleStage: 'LEAD' },
        400,
        'INVALID_WEBHOOK_REQUEST',
        /problem/,
      ],
      [
        'mailchimp',
        { type: 'subscribe', customerId: id, status: 'x' },
        400,
        'INVALID_WEBHOOK_REQUEST',
        /problem/,
      ],
      [
        'shopify',
        { type: 'orders/create', customerId: '99999999' },
        404,
        'CUSTOMER_NOT_FOUND',
        /^No customer has the id 99999999\.$/,
      ],
      [
        'mailchimp',
        { type: 'cleaned', email: 'nobody@example.com' },
        404,
        'CUSTOMER_NOT_FOUND',
        /^No customer has that email address\.$/,
      ],
    ];
    const orders = stack.world.orders.length;
    for (const [platform, body, status, code, error] of cases) {
      const answer = await post(platform, body);
      expect({ platform, body, status: answer.status, code: answer.body.code }).toEqual({
        platform,
        body,
        status,
        code,
      });
      expect(answer.body.error).toMatch(error);
    }
    const issues = (
      await post('hubspot', { type: 'contact.propertyChange', customerId: id, lifecycleStage: 'LEAD' })
    ).body.issues;
    expect(issues).toEqual([expect.stringMatching(/^lifecycleStage: /)]);
    const notJson = await post('shopify', undefined, '{"type": ');
    expect(notJson).toEqual({
      status: 400,
      body: { code: 'INVALID_JSON', error: 'The body is not valid JSON.' },
    });
    expect(stack.world.orders.length).toBe(orders);
  });

  it('should accept the README examples, which use the ports npm start gives the sandboxes', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const examples = [
      ...readme.matchAll(
        /curl -s http:\/\/127\.0\.0\.1:(\d+)\/__sandbox\/webhooks[^\n]*\n[^\n]*-d '([^']+)'/g,
      ),
    ];
    expect(examples.length).toBeGreaterThanOrEqual(2);
    const platformOf = new Map<number, Platform>(PLATFORM_NAMES.map((name) => [DEFAULT_PORTS[name], name]));
    for (const [, port, body] of examples) {
      const platform = platformOf.get(Number(port));
      expect(platform, `port ${port} is not a sandbox's in npm start`).toBeDefined();
      const answer = await post(platform!, JSON.parse(body!));
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
  });
});
