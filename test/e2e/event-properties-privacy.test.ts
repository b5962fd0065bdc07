import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { as } from '../helpers/clients.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { postWebhook, shopifyOrder, siteFormSubmission, sitePageView } from '../helpers/webhooks.js';

interface History {
  events: { edges: { node: { type: string; properties: Record<string, unknown> } }[] };
}

const HISTORY = `query { events(types: [PAGE_VIEWED, FORM_SUBMITTED, ORDER_PLACED], first: 50) {
  edges { node { type properties } }
} }`;

/**
 * The README's promise for `MarketingEvent.properties`, "details without personal data", through
 * the whole stack: signed webhooks that carry an email address, a phone number and a name in their
 * URLs, UTM values and page title, read back by a client with `events:read` and no `pii:read`.
 */
describe('event properties carry no personal data (real HTTP: webhooks in, history out)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it('should give a client with events:read but no pii:read properties without the email address the webhook carried', async () => {
    const email = 'ada.ito@example.com';
    const webhooks = [
      sitePageView({
        url: `https://www.demo-outdoor.example/welcome?email=${encodeURIComponent(email)}&utm_source=newsletter&utm_campaign=spring-sale#hi-ada`,
        referrer: `https://mail.example.net/inbox?to=${email}&utm_medium=email`,
        title: 'Welcome back, Ada Ito',
        email,
      }),
      siteFormSubmission({
        email,
        pageUrl: `https://www.demo-outdoor.example/contact/${email}?phone=%2B44%2020%207946%200958&utm_campaign=spring-sale`,
      }),
      shopifyOrder({
        email,
        totalPrice: '42.00',
        landingSite: `/products/rain-shell?utm_source=facebook&utm_term=${email}&utm_content=%2B1%20212%20555%200199`,
      }),
    ];
    for (const webhook of webhooks)
      expect(await postWebhook(stack.origins.gateway, webhook)).toMatchObject({ status: 200 });
    await expect
      .poll(async () => (await stack.eventLog.stats()).pending, { timeout: 10_000, interval: 25 })
      .toBe(0);

    const response = await graphql<History>(stack.gatewayUrl, HISTORY, {}, as('marketing-automation'));
    expect(response.body.errors).toBeUndefined();
    const events = response.body.data!.events.edges.map((edge) => edge.node);
    expect(events.map((event) => event.type).sort()).toEqual([
      'FORM_SUBMITTED',
      'ORDER_PLACED',
      'PAGE_VIEWED',
    ]);
    const text = JSON.stringify(events);
    expect(text).not.toContain('@');
    expect(text).not.toMatch(/ada|Ito|7946|555/i);
    // The attribution survives: only the personal parts went.
    const byType = Object.fromEntries(events.map((event) => [event.type, event.properties]));
    expect(byType['PAGE_VIEWED']).toEqual({
      url: 'https://www.demo-outdoor.example/welcome?utm_source=newsletter&utm_campaign=spring-sale',
      path: '/welcome',
      referrer: 'https://mail.example.net/inbox?utm_medium=email',
      utm: { source: 'newsletter', medium: null, campaign: 'spring-sale', content: null, term: null },
    });
    expect(byType['FORM_SUBMITTED']).toMatchObject({
      pageUrl: 'https://www.demo-outdoor.example/contact/(redacted)?utm_campaign=spring-sale',
    });
    expect(byType['ORDER_PLACED']).toMatchObject({
      utm: { source: 'facebook', medium: null, campaign: null, content: null, term: null },
    });
  });
});
