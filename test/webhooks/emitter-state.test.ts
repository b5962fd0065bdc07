import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../../lib/server/listen.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import { platformSandbox } from '../../sandboxes/registry.js';
import { DEMO_WEBHOOK_SECRETS } from '../../sandboxes/webhooks/demo-secrets.js';
import { createWebhookEmitter, type WebhookEmitter } from '../../sandboxes/webhooks/emitter.js';
import { sandboxEventRoute } from '../../sandboxes/webhooks/event-route.js';
import { changeContact } from '../../platforms/hubspot/sandbox/changes.js';
import { changeMember } from '../../platforms/mailchimp/sandbox/changes.js';
import { TransitionError } from '../../sandboxes/world/changes.js';
import { Random } from '../../sandboxes/world/random.js';
import { generateWorld, type World } from '../../sandboxes/world/world.js';
import { silentLogger } from '../helpers/context.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';

/**
 * The emitter's webhooks never contradict the sandboxes' state: each reports a change the platform
 * would make from the state just before it, and the world afterwards is exactly the sum of what the
 * webhooks reported. The rules are written out here as the platforms state them, independently of
 * the platforms' sandbox changes (platforms/<name>/sandbox/changes.ts), so a wrong rule there fails here.
 */

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let gateway: Listening;
let received: Received[] = [];

beforeAll(async () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200).end();
    });
  });
  gateway = await listen(server, 0, '127.0.0.1');
});
afterAll(async () => {
  await gateway.close();
});
beforeEach(() => {
  received = [];
});

const small = () => generateWorld({ seed: 3, customers: 40, anchorDate: TEST_ANCHOR_DATE });

/** `null`: no target, as a standalone sandbox without SANDBOX_WEBHOOK_TARGET. */
function emitterFor(world: World, target: string | null = gateway.origin): WebhookEmitter {
  return createWebhookEmitter({
    world,
    ...(target ? { target: { gatewayOrigin: target } } : {}),
    secrets: DEMO_WEBHOOK_SECRETS,
    perMinute: 60,
    logger: silentLogger,
    random: new Random(99),
    retryDelaysMs: [],
    kinds: ['order', 'subscribe', 'unsubscribe', 'cleaned', 'contact-change'],
  });
}

/** HubSpot's default lifecycle order: a stage only moves to a later one. */
const STAGES = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];
/** The member statuses Mailchimp sends each audience webhook from. */
const SENT_FROM: Record<string, string[]> = {
  subscribe: ['absent', 'unsubscribed', 'pending', 'transactional'],
  unsubscribe: ['subscribed'],
  cleaned: ['subscribed', 'pending'],
};
const STATUS_AFTER: Record<string, string> = {
  subscribe: 'subscribed',
  unsubscribe: 'unsubscribed',
  cleaned: 'cleaned',
};

/** What the webhooks say about each customer, starting from a fresh copy of the seeded world. */
interface Shadow {
  stage: string;
  leadStatus: string | null;
  member: string;
  shop: boolean;
  orders: number;
}

describe('the emitter against the state of the world', () => {
  it('should send only transitions the current state allows, and leave the world as its webhooks say', async () => {
    const world = small();
    const shadow = new Map<string, Shadow>(
      small().customers.map((c) => [
        c.person.email,
        {
          stage: c.crm.lifecycleStage,
          leadStatus: null,
          member: c.audience?.status ?? 'absent',
          shop: c.shop !== undefined,
          orders: 0,
        },
      ]),
    );
    const byCrmId = new Map(world.customers.map((c) => [c.crm.id, c.person.email]));
    const emitter = emitterFor(world);
    try {
      for (let i = 0; i < 400; i++) await emitter.emit();
    } finally {
      await emitter.stop();
    }

    const seen: Record<string, number> = {};
    const orderIds = new Set<number>();
    for (const request of received) {
      const path = request.url.split('?')[0];
      if (path === '/webhooks/hubspot') {
        for (const event of JSON.parse(request.body) as {
          objectId: number;
          propertyName: string;
          propertyValue: string;
        }[]) {
          const state = shadow.get(byCrmId.get(String(event.objectId)) ?? '')!;
          seen[event.propertyName] = (seen[event.propertyName] ?? 0) + 1;
          if (event.propertyName === 'lifecyclestage') {
            expect(STAGES.indexOf(event.propertyValue)).toBeGreaterThan(STAGES.indexOf(state.stage));
            state.stage = event.propertyValue;
          } else {
            expect(event.propertyName).toBe('hs_lead_status');
            expect(event.propertyValue).not.toBe(state.leadStatus);
            state.leadStatus = event.propertyValue;
          }
        }
      } else if (path === '/webhooks/mailchimp') {
        const form = new URLSearchParams(request.body);
        const type = form.get('type') ?? '';
        const state = shadow.get(form.get('data[email]') ?? '')!;
        seen[type] = (seen[type] ?? 0) + 1;
        expect({ type, from: state.member, allowed: SENT_FROM[type]?.includes(state.member) }).toEqual({
          type,
          from: state.member,
          allowed: true,
        });
        state.member = STATUS_AFTER[type]!;
      } else if (path === '/webhooks/shopify') {
        const topic = String(request.headers['x-shopify-topic']);
        const body = JSON.parse(request.body) as { id: number; email: string };
        const state = shadow.get(body.email)!;
        seen[topic] = (seen[topic] ?? 0) + 1;
        if (topic === 'customers/create') {
          expect(state.shop).toBe(false);
          state.shop = true;
        } else {
          // Every buyer has a shop account by the time their order is reported.
          expect(state.shop).toBe(true);
          expect(orderIds.has(body.id)).toBe(false);
          orderIds.add(body.id);
          state.orders += 1;
        }
      } else {
        // A page view stands in when the state allows no event of the drawn kind.
        expect(path).toBe('/webhooks/site');
        seen['fallback'] = (seen['fallback'] ?? 0) + 1;
      }
    }
    // Every kind of change came up, and the state ran out of some (the fallback).
    for (const topic of [
      'lifecyclestage',
      'hs_lead_status',
      'subscribe',
      'unsubscribe',
      'cleaned',
      'orders/create',
      'customers/create',
    ])
      expect(seen[topic], topic).toBeGreaterThan(0);
    expect(seen['fallback']).toBeGreaterThan(0);

    const seeded = small();
    for (const customer of world.customers) {
      const state = shadow.get(customer.person.email)!;
      const before = seeded.ordersByCustomer.get(customer.person.index)?.length ?? 0;
      expect({
        stage: customer.crm.lifecycleStage,
        leadStatus: customer.crm.leadStatus ?? null,
        member: customer.audience?.status ?? 'absent',
        shop: customer.shop !== undefined,
        orders: (world.ordersByCustomer.get(customer.person.index)?.length ?? 0) - before,
      }).toEqual(state);
    }
  });

  it('should refuse a stage moving back and a cleaned address subscribing, changing nothing', () => {
    const world = small();
    const customer = world.customers.find((c) => c.crm.lifecycleStage === 'customer')!;
    const member = world.customers.find((c) => c.audience?.status === 'cleaned') ?? world.customers[0]!;
    if (member.audience?.status !== 'cleaned') changeMember(world, member, 'cleaned', Date.now());
    const revision = world.revision;
    expect(() => changeContact(world, customer, { lifecycleStage: 'lead' }, Date.now())).toThrow(
      TransitionError,
    );
    expect(() => changeMember(world, member, 'subscribe', Date.now())).toThrow(TransitionError);
    expect(() => changeMember(world, member, 'unsubscribe', Date.now())).toThrow(TransitionError);
    expect(customer.crm.lifecycleStage).toBe('customer');
    expect(member.audience?.status).toBe('cleaned');
    expect(world.revision).toBe(revision);
  });
});

describe('POST /__sandbox/webhooks on a standalone sandbox', () => {
  async function sandbox(
    platform: 'hubspot' | 'mailchimp' | 'shopify',
    world: World,
    emitter: WebhookEmitter,
  ) {
    const server = createSandboxServer(await platformSandbox(platform, world), {
      logger: silentLogger,
      rateLimits: false,
      adminRoutes: [sandboxEventRoute(platform, world, emitter)],
    });
    return listen(server.server, 0, '127.0.0.1');
  }
  const post = (origin: string, body: unknown) =>
    fetch(`${origin}/__sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('should change what the platform API serves, then send the webhook to the target', async () => {
    const world = small();
    const emitter = emitterFor(world);
    const hubspot = await sandbox('hubspot', world, emitter);
    const mailchimp = await sandbox('mailchimp', world, emitter);
    const shopify = await sandbox('shopify', world, emitter);
    try {
      const lead = world.customers.find((c) => c.crm.lifecycleStage === 'lead')!;
      expect(
        (await post(hubspot.origin, { type: 'contact.propertyChange', customerId: lead.crm.id })).status,
      ).toBe(200);
      const contact = (await (
        await fetch(`${hubspot.origin}/crm/v3/objects/contacts/${lead.crm.id}?properties=lifecyclestage`, {
          headers: { authorization: `Bearer ${DEMO_CREDENTIALS.hubspot.accessToken}` },
        })
      ).json()) as { properties: { lifecyclestage: string } };
      expect(contact.properties.lifecyclestage).toBe('marketingqualifiedlead');

      const outsider = world.customers.find((c) => c.audience === undefined)!;
      expect((await post(mailchimp.origin, { type: 'subscribe', email: outsider.person.email })).status).toBe(
        200,
      );
      const auth = `Basic ${Buffer.from(`any:${DEMO_CREDENTIALS.mailchimp.apiKey}`).toString('base64')}`;
      const joined = await fetch(
        `${mailchimp.origin}/3.0/lists/${DEMO_CREDENTIALS.mailchimp.listId}/members/${encodeURIComponent(outsider.person.email)}`,
        { headers: { authorization: auth } },
      );
      expect(joined.status).toBe(200);
      expect(((await joined.json()) as { status: string }).status).toBe('subscribed');

      const buyer = world.customers.find((c) => c.shop !== undefined)!;
      const shopUrl = `${shopify.origin}/admin/api/${DEMO_CREDENTIALS.shopify.apiVersion}/customers/${buyer.shop!.id}.json`;
      const headers = { 'x-shopify-access-token': DEMO_CREDENTIALS.shopify.accessToken };
      const before = (
        (await (await fetch(shopUrl, { headers })).json()) as { customer: { orders_count: number } }
      ).customer;
      const placed = (await (
        await post(shopify.origin, { type: 'orders/create', customerId: buyer.crm.id })
      ).json()) as {
        applied: { order: { id: number } };
      };
      const after = (
        (await (await fetch(shopUrl, { headers })).json()) as {
          customer: { orders_count: number; last_order_id: number };
        }
      ).customer;
      expect(after.orders_count).toBe(before.orders_count + 1);
      expect(after.last_order_id).toBe(placed.applied.order.id);

      expect(received.map((r) => r.url.split('?')[0])).toEqual([
        '/webhooks/hubspot',
        '/webhooks/mailchimp',
        '/webhooks/shopify',
      ]);
    } finally {
      await emitter.stop();
      await Promise.all([hubspot.close(), mailchimp.close(), shopify.close()]);
    }
  });

  it('should answer 503 WEBHOOK_TARGET_NOT_SET without a target, changing nothing', async () => {
    const world = small();
    const emitter = emitterFor(world, null);
    const shopify = await sandbox('shopify', world, emitter);
    try {
      const answer = await post(shopify.origin, {
        type: 'orders/create',
        customerId: world.customers[0]!.crm.id,
      });
      expect(answer.status).toBe(503);
      expect(await answer.json()).toMatchObject({ code: 'WEBHOOK_TARGET_NOT_SET' });
      expect(world.revision).toBe(0);
      expect(received).toEqual([]);
    } finally {
      await shopify.close();
    }
  });
});
