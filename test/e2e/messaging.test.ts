import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { TwilioConnector } from '../../platforms/twilio/client/connector.js';
import { twilioSignature } from '../../platforms/twilio/sandbox/sign.js';
import { historyFor, keywordEffect } from '../../platforms/twilio/sandbox/history.js';
import type { Customer } from '../../sandboxes/world/world.js';
import { testRequest } from '../helpers/context.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { TWILIO } from '../helpers/twilio.js';

const e164 = (phone: string) => phone.replace(/\s/g, '');

/** What the sandbox's seeded history says a number's consent is: its latest keyword, independently read. */
function seededConsent(stack: Stack, customer: Customer) {
  const latest = historyFor(stack.world, e164(customer.person.phone), TWILIO.from)
    .filter((m) => m.direction === 'inbound' && keywordEffect(m.body) !== null)
    .at(-1);
  if (!latest) return { status: 'NEVER_OPTED_OUT', keyword: null };
  return {
    status: keywordEffect(latest.body) === 'out' ? 'OPTED_OUT' : 'OPTED_IN',
    keyword: latest.body.trim().toUpperCase(),
  };
}

const PROFILE = /* GraphQL */ `
  query Sms($id: ID!) {
    customer(id: $id) {
      id
      smsConsent {
        status
        keyword
        changedAt
        phone
      }
      smsMessages(first: 3) {
        id
        direction
        status
        errorCode
        sentAt
      }
    }
  }
`;

interface SmsProfile {
  customer: {
    id: string;
    smsConsent: {
      status: string;
      keyword: string | null;
      changedAt: string | null;
      phone: string | null;
    } | null;
    smsMessages:
      | { id: string; direction: string; status: string; errorCode: number | null; sentAt: string | null }[]
      | null;
  } | null;
}

interface EventsPage {
  events: {
    edges: {
      node: { type: string; source: string; properties: Record<string, unknown>; personalData: unknown };
    }[];
  };
}

describe('the messaging subgraph and Twilio webhooks through the gateway', () => {
  let stack: Stack;
  let keys: Record<string, string[]>;
  /** A client that may read consent but no personal data. */
  const consentOnly = () => ({ authorization: `Bearer ${keys['sms-ops']?.[0] ?? ''}` });
  const admin = () => ({ authorization: `Bearer ${keys['admin']?.[0] ?? ''}` });

  beforeAll(async () => {
    const registry = writeTestRegistry([
      { id: 'sms-ops', scopes: ['crm:read', 'messaging:read'] },
      { id: 'admin', scopes: ['crm:read', 'pii:read', 'messaging:read', 'events:read'] },
      { id: 'profiles', scopes: ['crm:read', 'pii:read'] },
    ]);
    keys = registry.keys;
    stack = await startTestStack({ customers: 200, clientsFile: registry.clientsFile, responseCache: false });
  });
  afterAll(async () => {
    await stack.close();
  });

  it('should join a customer to their texts by phone: consent as the history says, messages newest first', async () => {
    const optedOut = stack.world.customers.find((c) => seededConsent(stack, c).status === 'OPTED_OUT');
    if (!optedOut) throw new Error('the seeded world has no opted-out number');
    const { body } = await graphql<SmsProfile>(stack.gatewayUrl, PROFILE, { id: optedOut.crm.id }, admin());
    expect(body.errors).toBeUndefined();
    const expected = seededConsent(stack, optedOut);
    expect(body.data?.customer?.smsConsent).toEqual({
      status: 'OPTED_OUT',
      keyword: expected.keyword,
      changedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      phone: e164(optedOut.person.phone),
    });
    const messages = body.data?.customer?.smsMessages ?? [];
    expect(messages.length).toBeGreaterThan(0);
    // Twilio's confirmation of the opt-out is among them, as it is in the history.
    const history = historyFor(stack.world, e164(optedOut.person.phone), TWILIO.from);
    expect(messages.every((m) => history.some((h) => h.sid === m.id))).toBe(true);
    const sent = messages.map((m) => Date.parse(m.sentAt ?? ''));
    expect(sent).toEqual([...sent].sort((a, b) => b - a));
  });

  it('should give consent to a client without personal data, joining on the phone it may not read', async () => {
    const customer = stack.world.customers[5]!;
    const { body } = await graphql<SmsProfile>(
      stack.gatewayUrl,
      PROFILE,
      { id: customer.crm.id },
      consentOnly(),
    );
    expect(body.data?.customer?.smsConsent).toMatchObject({
      status: seededConsent(stack, customer).status,
      phone: null,
    });
    expect(body.errors?.map((e) => [e.path?.join('.'), e.extensions?.['code']])).toEqual([
      ['customer.smsConsent.phone', 'FORBIDDEN'],
    ]);
  });

  it('should refuse consent and messages to a client without messaging:read', async () => {
    const customer = stack.world.customers[5]!;
    const { body } = await graphql<SmsProfile>(
      stack.gatewayUrl,
      PROFILE,
      { id: customer.crm.id },
      { authorization: `Bearer ${keys['profiles']?.[0] ?? ''}` },
    );
    expect(body.data?.customer).toMatchObject({ id: customer.crm.id, smsConsent: null, smsMessages: null });
    expect(body.errors?.map((e) => [e.path?.join('.'), e.extensions?.['code']]).sort()).toEqual([
      ['customer.smsConsent', 'FORBIDDEN'],
      ['customer.smsMessages', 'FORBIDDEN'],
    ]);
  });

  /** Two customers with different numbers that never opted out: one texts STOP, the other is texted. */
  const neverOptedOut = () => {
    const [first, ...rest] = stack.world.customers.filter(
      (c) => seededConsent(stack, c).status === 'NEVER_OPTED_OUT',
    );
    const second = rest.find((c) => c.person.phone !== first?.person.phone);
    if (!first || !second) throw new Error('the seeded world has too few numbers that never opted out');
    return [first, second] as const;
  };

  it('should store an incoming STOP as SMS_RECEIVED with optOut, and answer OPTED_OUT from then on', async () => {
    const [customer] = neverOptedOut();
    const response = await fetch(`${stack.origins.twilio}/__sandbox/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'incoming-message', customerId: customer.crm.id, body: 'stop' }),
    });
    const sent = (await response.json()) as {
      webhooks: { url: string; delivered: boolean; status: number }[];
    };
    expect(response.status).toBe(200);
    expect(sent.webhooks).toEqual([
      expect.objectContaining({
        url: `${stack.origins.gateway}/webhooks/twilio`,
        delivered: true,
        status: 200,
      }),
    ]);
    await expect
      .poll(async () => (await stack.eventLog.stats()).pending, { timeout: 10_000, interval: 25 })
      .toBe(0);
    const { body } = await graphql<EventsPage>(
      stack.gatewayUrl,
      'query { events(types: [SMS_RECEIVED], first: 10) { edges { node { type source properties personalData } } } }',
      {},
      admin(),
    );
    expect(body.data?.events.edges.map((e) => e.node).at(-1)).toEqual({
      type: 'SMS_RECEIVED',
      source: 'TWILIO',
      properties: expect.objectContaining({ optOut: true, keyword: 'STOP' }),
      personalData: { phone: e164(customer.person.phone), body: 'stop' },
    });
    const profile = await graphql<SmsProfile>(stack.gatewayUrl, PROFILE, { id: customer.crm.id }, admin());
    expect(profile.body.data?.customer?.smsConsent).toMatchObject({ status: 'OPTED_OUT', keyword: 'STOP' });
  });

  it('should turn the status callbacks of a send into SMS_SENT and SMS_DELIVERED events', async () => {
    const [, customer] = neverOptedOut();
    const twilio = new TwilioConnector({
      baseUrl: `${stack.origins.twilio}/2010-04-01`,
      credentials: { accountSid: TWILIO.accountSid, authToken: TWILIO.authToken },
      from: TWILIO.from,
      timeoutMs: 5_000,
      maxRetries: 1,
    });
    try {
      const message = await twilio.sendMessage(testRequest(), {
        to: e164(customer.person.phone),
        body: 'Your order shipped',
        statusCallback: `${stack.origins.gateway}/webhooks/twilio`,
      });
      const types = async () => {
        const { body } = await graphql<EventsPage>(
          stack.gatewayUrl,
          'query { events(types: [SMS_SENT, SMS_DELIVERED, SMS_FAILED], first: 50) { edges { node { type source properties personalData } } } }',
          {},
          admin(),
        );
        return (body.data?.events.edges ?? [])
          .map((e) => e.node)
          .filter((n) => n.properties['messageSid'] === message.id)
          .map((n) => n.type);
      };
      // The message leaves the sender's queue after a second (a long code's 1 per second).
      await expect.poll(types, { timeout: 10_000, interval: 100 }).toEqual(['SMS_SENT', 'SMS_DELIVERED']);
    } finally {
      await twilio.close();
    }
  });
});

describe('Twilio signatures behind a proxy', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startTestStack({ customers: 50, events: { publicUrl: 'https://hooks.example.com' } });
  });
  afterAll(async () => {
    await stack.close();
  });

  const callback = {
    AccountSid: TWILIO.accountSid,
    ApiVersion: '2010-04-01',
    From: TWILIO.from,
    To: '+14155550123',
    MessageSid: `SM${'b2'.repeat(16)}`,
    SmsSid: `SM${'b2'.repeat(16)}`,
    MessageStatus: 'delivered',
    SmsStatus: 'delivered',
  };
  const post = (signedUrl: string) =>
    fetch(`${stack.origins.gateway}/webhooks/twilio`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(TWILIO.authToken, signedUrl, callback),
      },
      body: new URLSearchParams(callback).toString(),
    });

  it('should verify against WEBHOOK_PUBLIC_URL, the URL Twilio called, not the address the gateway listens on', async () => {
    expect((await post('https://hooks.example.com/webhooks/twilio')).status).toBe(200);
    const direct = await post(`${stack.origins.gateway}/webhooks/twilio`);
    expect(direct.status).toBe(401);
    expect(await direct.json()).toMatchObject({
      errors: [{ extensions: { code: 'WEBHOOK_SIGNATURE_INVALID' } }],
    });
  });
});
