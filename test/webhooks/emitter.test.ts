import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_SOURCES, type EventSourceName } from '../../platforms/registry.js';
import { verifyHubSpot } from '../../platforms/hubspot/webhooks/verify.js';
import { verifyMailchimp } from '../../platforms/mailchimp/webhooks/verify.js';
import { verifyShopify } from '../../platforms/shopify/webhooks/verify.js';
import { verifyTwilio } from '../../platforms/twilio/webhooks/verify.js';
import { verifyStandardWebhook } from '../../lib/webhooks/standard-webhooks.js';
import type { VerifyResult } from '../../lib/webhooks/verify-result.js';
import { listen, type Listening } from '../../lib/server/listen.js';
import {
  createWebhookEmitter,
  type WebhookEmitter,
  type WebhookEmitterOptions,
} from '../../sandboxes/webhooks/emitter.js';
import { createSandboxServer } from '../../sandboxes/kit/server.js';
import { platformSandbox } from '../../sandboxes/registry.js';
import { webhookEmitterRoutes } from '../../sandboxes/webhooks/admin-routes.js';
import { DEMO_WEBHOOK_SECRETS } from '../../sandboxes/webhooks/demo-secrets.js';
import { WEBHOOK_KINDS } from '../../sandboxes/webhooks/traffic.js';
import { Random } from '../../sandboxes/world/random.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { silentLogger } from '../helpers/context.js';
import { freePorts } from '../helpers/ports.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

const world = generateWorld({ seed: 7, customers: 300, anchorDate: TEST_ANCHOR_DATE });

/** A stand-in for the gateway: records every request and answers what `respond` says. */
let gateway: Listening;
let received: Received[] = [];
let respond: (request: Received) => number = () => 202;

beforeAll(async () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        at: Date.now(),
      };
      received.push(request);
      res.writeHead(respond(request)).end();
    });
  });
  gateway = await listen(server, 0, '127.0.0.1');
});
afterAll(async () => {
  await gateway.close();
});

const emitters: WebhookEmitter[] = [];
afterEach(async () => {
  await Promise.all(emitters.splice(0).map((e) => e.stop()));
  received = [];
  respond = () => 202;
});

function emitter(overrides: Partial<WebhookEmitterOptions> = {}): WebhookEmitter {
  const created = createWebhookEmitter({
    world,
    target: { gatewayOrigin: gateway.origin },
    secrets: DEMO_WEBHOOK_SECRETS,
    perMinute: 60,
    logger: silentLogger,
    random: new Random(42),
    retryDelaysMs: [20, 40],
    ...overrides,
  });
  emitters.push(created);
  return created;
}

/** Verifies a recorded request the way the gateway's endpoint would, with the gateway's verifiers. */
function verify(request: Received): VerifyResult {
  const path = request.url.split('?')[0];
  const headers = request.headers;
  switch (path) {
    case '/webhooks/hubspot':
      return verifyHubSpot(
        { method: request.method, uri: `${gateway.origin}${request.url}`, rawBody: request.body, headers },
        { secrets: [DEMO_WEBHOOK_SECRETS.hubspot] },
      );
    case '/webhooks/shopify':
      return verifyShopify({ rawBody: request.body, headers }, { secrets: [DEMO_WEBHOOK_SECRETS.shopify] });
    case '/webhooks/mailchimp':
      return verifyMailchimp(
        { query: new URL(request.url, gateway.origin).searchParams },
        { secrets: [DEMO_WEBHOOK_SECRETS.mailchimp] },
      );
    case '/webhooks/twilio':
      return verifyTwilio(
        { uri: `${gateway.origin}${request.url}`, rawBody: request.body, headers },
        { secrets: [DEMO_WEBHOOK_SECRETS.twilio] },
      );
    case '/webhooks/site':
      return verifyStandardWebhook(
        { rawBody: request.body, headers },
        { secrets: [DEMO_WEBHOOK_SECRETS.site] },
      );
    default:
      throw new Error(`unexpected path ${path}`);
  }
}

const NORMALISERS = Object.fromEntries(
  WEBHOOK_SOURCES.map((source) => [source.name, source.normalise]),
) as Record<EventSourceName, (typeof WEBHOOK_SOURCES)[number]['normalise']>;
const SOURCE_OF_PATH: Record<string, EventSourceName> = {
  '/webhooks/hubspot': 'hubspot',
  '/webhooks/shopify': 'shopify',
  '/webhooks/mailchimp': 'mailchimp',
  '/webhooks/site': 'site',
  '/webhooks/twilio': 'twilio',
};

describe('webhook emitter', () => {
  it('should post every kind signed so the gateway verifiers accept it and the normalisers read it', async () => {
    const source = emitter();
    const outcomes = [];
    for (const kind of WEBHOOK_KINDS) outcomes.push(await source.emit(kind));
    // Each source's kinds come from its descriptor, in the registry's order: compared by kind.
    expect([...WEBHOOK_KINDS].sort()).toEqual(
      [
        'form-fill',
        'page-view',
        'order',
        'subscribe',
        'unsubscribe',
        'cleaned',
        'contact-change',
        'sms-reply',
      ].sort(),
    );
    expect(Object.fromEntries(outcomes.map((o) => [o.kind, [o.source, o.ok, o.attempts]]))).toEqual({
      'form-fill': ['site', true, 1],
      'page-view': ['site', true, 1],
      order: ['shopify', true, 1],
      subscribe: ['mailchimp', true, 1],
      unsubscribe: ['mailchimp', true, 1],
      cleaned: ['mailchimp', true, 1],
      'contact-change': ['hubspot', true, 1],
      'sms-reply': ['twilio', true, 1],
    });
    for (const request of received) {
      expect(verify(request)).toEqual({ ok: true });
      const source = SOURCE_OF_PATH[request.url.split('?')[0] ?? ''];
      if (!source) throw new Error('unknown path');
      const normalised = NORMALISERS[source](request.body, request.headers, new Date());
      if (!normalised.ok) throw new Error(`${source}: ${normalised.problems.join('; ')}`);
      for (const event of normalised.events) {
        // Every event is about someone the seeded world knows (or, for page views, maybe nobody).
        const known =
          event.customer === null ||
          (event.customer.email !== undefined && world.byEmail.has(event.customer.email)) ||
          (event.customer.id !== undefined && world.byCrmId.has(event.customer.id));
        expect(known).toBe(true);
      }
    }
    const mailchimp = received.filter((r) => r.url.startsWith('/webhooks/mailchimp'));
    expect(mailchimp.map((r) => new URLSearchParams(r.body.toString()).get('type'))).toEqual([
      'subscribe',
      'unsubscribe',
      'cleaned',
    ]);
    expect(mailchimp.every((r) => r.headers['user-agent'] === 'MailChimp.com')).toBe(true);
    // A first-time buyer's order comes after Shopify's customers/create for them.
    expect(received.filter((r) => r.url === '/webhooks/shopify').at(-1)?.headers['x-shopify-topic']).toBe(
      'orders/create',
    );
  });

  it('should send orders the shop now has, with a new order id, and form fills with the customer email', async () => {
    const source = emitter({ kinds: ['order', 'form-fill'] });
    await source.emit('order');
    await source.emit('form-fill');
    const [order, formFill] = received;
    const orderBody = JSON.parse(order?.body.toString() ?? '{}') as {
      id: number;
      email: string;
      landing_site: string;
    };
    const buyer = world.byEmail.get(orderBody.email);
    expect(buyer?.shop?.id).toEqual(expect.any(Number));
    // Applied before it was sent: the order is the buyer's newest in the world the sandboxes serve.
    expect(world.ordersByCustomer.get(buyer?.person.index ?? -1)?.some((o) => o.id === orderBody.id)).toBe(
      true,
    );
    const seeded = generateWorld({ seed: 7, customers: 300, anchorDate: TEST_ANCHOR_DATE });
    expect(orderBody.id).toBeGreaterThan(Math.max(...seeded.orders.map((o) => o.id)));
    const campaign = new URLSearchParams(orderBody.landing_site.split('?')[1]).get('utm_campaign');
    expect(world.campaigns.map((c) => c.key)).toContain(campaign);
    const fields = (
      JSON.parse(formFill?.body.toString() ?? '{}') as { data: { fields: { name: string; value: string }[] } }
    ).data.fields;
    const email = fields.find((f) => f.name === 'email')?.value ?? '';
    expect(world.byEmail.has(email)).toBe(true);
  });

  it('should roughly keep the rate: about 20 webhooks in a second at 1,200 a minute', async () => {
    const source = emitter({ perMinute: 1_200 });
    const started = Date.now();
    source.start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await source.stop();
    const inWindow = received.filter((r) => r.at - started <= 1_050);
    // Loose on the low side: a busy machine delays timers, and the schedule skips a lagging burst.
    expect(inWindow.length).toBeGreaterThanOrEqual(12);
    expect(inWindow.length).toBeLessThanOrEqual(22);
    expect(source.stats().sent).toBe(received.length);
    expect(received.every((r) => verify(r).ok)).toBe(true);
  });

  it('should retry a 503 with backoff, re-signing each attempt, and count one sent and two retries', async () => {
    let answered = 0;
    respond = () => (++answered <= 2 ? 503 : 200);
    const source = emitter();
    const outcome = await source.emit('contact-change');
    expect(outcome).toEqual({
      kind: 'contact-change',
      source: 'hubspot',
      ok: true,
      attempts: 3,
      status: 200,
    });
    expect(received).toHaveLength(3);
    const attemptNumbers = received.map(
      (r) => (JSON.parse(r.body.toString()) as { attemptNumber: number }[])[0]?.attemptNumber,
    );
    expect(attemptNumbers).toEqual([0, 1, 2]);
    expect(received.map((r) => verify(r))).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    // Backoff: at least most of the configured 20 ms, then 40 ms (±20% jitter).
    expect((received[1]?.at ?? 0) - (received[0]?.at ?? 0)).toBeGreaterThanOrEqual(15);
    expect((received[2]?.at ?? 0) - (received[1]?.at ?? 0)).toBeGreaterThanOrEqual(31);
    expect(source.stats()).toMatchObject({ sent: 1, failed: 0, retried: 2 });
  });

  it('should keep the same Shopify event id and Standard Webhooks id across retries', async () => {
    respond = (request) => (received.filter((r) => r.url === request.url).length === 1 ? 503 : 200);
    const source = emitter();
    await source.emit('order');
    await source.emit('page-view');
    const orders = received.filter((r) => r.url === '/webhooks/shopify');
    const views = received.filter((r) => r.url === '/webhooks/site');
    expect(orders).toHaveLength(2);
    expect(new Set(orders.map((r) => r.headers['x-shopify-event-id'])).size).toBe(1);
    expect(views).toHaveLength(2);
    expect(new Set(views.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('should give up after the last retry and count a failure when the gateway keeps failing', async () => {
    respond = () => 500;
    const source = emitter();
    const outcome = await source.emit('subscribe');
    expect(outcome).toMatchObject({ ok: false, attempts: 3, status: 500 });
    expect(source.stats()).toMatchObject({
      sent: 0,
      failed: 1,
      retried: 2,
      bySource: { mailchimp: { sent: 0, failed: 1 } },
    });
  });

  it('should survive a gateway that is down, counting failures, and stop cleanly', async () => {
    const [closedPort] = await freePorts(1);
    const source = emitter({
      target: { gatewayOrigin: `http://127.0.0.1:${closedPort}` },
      perMinute: 600,
      retryDelaysMs: [10],
    });
    const outcome = await source.emit('order');
    expect(outcome).toEqual({ kind: 'order', source: 'shopify', ok: false, attempts: 2 });
    source.start();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await source.stop();
    const stats = source.stats();
    expect(stats.running).toBe(false);
    expect(stats.sent).toBe(0);
    expect(stats.failed).toBeGreaterThanOrEqual(2);
    expect(stats.inFlight).toBe(0);
  });

  it('should be switched on, re-rated and off through the sandbox admin endpoint', async () => {
    const source = emitter({ perMinute: 60 });
    const sandbox = createSandboxServer(await platformSandbox('hubspot', world), {
      logger: silentLogger,
      adminRoutes: webhookEmitterRoutes(source),
    });
    const admin = await listen(sandbox.server, 0, '127.0.0.1');
    try {
      const put = (body: unknown) =>
        fetch(`${admin.origin}/__sandbox/webhooks`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const on = await put({ running: true, perMinute: 1_200 });
      expect(on.status).toBe(200);
      expect(await on.json()).toMatchObject({ running: true, perMinute: 1_200 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const off = await put({ running: false });
      expect(await off.json()).toMatchObject({ running: false });
      expect(received.length).toBeGreaterThanOrEqual(3);
      const stats = (await (await fetch(`${admin.origin}/__sandbox/webhooks`)).json()) as { sent: number };
      expect(stats.sent).toBe(received.length);
      const bad = await put({ perMinute: 0 });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ issues: [expect.stringMatching(/^perMinute: /)] });
    } finally {
      await admin.close();
    }
  });
});
