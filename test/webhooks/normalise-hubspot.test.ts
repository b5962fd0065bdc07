import { describe, expect, it } from 'vitest';
import { normaliseHubSpot } from '../../platforms/hubspot/webhooks/normalise.js';

const RECEIVED = new Date('2026-11-28T12:00:00.000Z');
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

/** The reference's propertyChange example, verbatim. */
const PROPERTY_CHANGE = {
  objectId: 1246965,
  propertyName: 'lifecyclestage',
  propertyValue: 'subscriber',
  changeSource: 'ACADEMY',
  eventId: 3816279340,
  subscriptionId: 25,
  portalId: 33,
  appId: 1160452,
  occurredAt: 1462216307945,
  subscriptionType: 'contact.propertyChange',
  attemptNumber: 0,
};
/** contact.creation: the same minus propertyName/propertyValue. */
const { propertyName: _n, propertyValue: _v, ...CREATION_BASE } = PROPERTY_CHANGE;
const CREATION = {
  ...CREATION_BASE,
  eventId: 3816279341,
  subscriptionId: 21,
  subscriptionType: 'contact.creation',
};

describe('HubSpot normaliser', () => {
  it('should turn the reference propertyChange into CONTACT_UPDATED, a non-personal value kept in properties', () => {
    const result = normaliseHubSpot(body([PROPERTY_CHANGE]), {}, RECEIVED);
    expect(result).toEqual({
      ok: true,
      events: [
        {
          dedupeKey: 'hubspot:3816279340:25:1462216307945',
          type: 'CONTACT_UPDATED',
          source: 'hubspot',
          occurredAt: new Date(1462216307945).toISOString(),
          receivedAt: RECEIVED.toISOString(),
          customer: { id: '1246965' },
          properties: {
            portalId: '33',
            changeSource: 'ACADEMY',
            propertyName: 'lifecyclestage',
            propertyValueChanged: true,
            propertyValue: 'subscriber',
          },
          personal: null,
        },
      ],
    });
  });

  it('should turn a batch of 3 into 3 events, a personal property value kept apart in personal', () => {
    const emailChange = {
      ...PROPERTY_CHANGE,
      eventId: 3816279342,
      propertyName: 'email',
      propertyValue: 'new.address@example.com',
    };
    const deletion = {
      ...CREATION,
      eventId: 3816279343,
      subscriptionId: 23,
      subscriptionType: 'contact.privacyDeletion',
    };
    const result = normaliseHubSpot(body([CREATION, emailChange, deletion]), {}, RECEIVED);
    if (!result.ok) throw new Error(result.problems.join('; '));
    expect(result.events.map((e) => e.type)).toEqual([
      'CONTACT_CREATED',
      'CONTACT_UPDATED',
      'CONTACT_DELETED',
    ]);
    expect(result.events.map((e) => e.dedupeKey)).toEqual([
      'hubspot:3816279341:21:1462216307945',
      'hubspot:3816279342:25:1462216307945',
      'hubspot:3816279343:23:1462216307945',
    ]);
    const [created, updated, deleted] = result.events;
    expect(created?.properties).toEqual({ portalId: '33', changeSource: 'ACADEMY' });
    expect(updated?.properties).toEqual({
      portalId: '33',
      changeSource: 'ACADEMY',
      propertyName: 'email',
      propertyValueChanged: true,
    });
    expect(updated?.personal).toEqual({ email: 'new.address@example.com' });
    expect(JSON.stringify(updated?.properties)).not.toContain('new.address');
    expect(deleted?.properties).toEqual({ portalId: '33', changeSource: 'ACADEMY', privacyDeletion: true });
  });

  it('should treat an unknown property as personal (a custom property can hold anything)', () => {
    const result = normaliseHubSpot(
      body([{ ...PROPERTY_CHANGE, propertyName: 'favourite_trail', propertyValue: 'Ridge loop' }]),
      {},
      RECEIVED,
    );
    expect(result.ok && result.events[0]?.personal).toEqual({ favourite_trail: 'Ridge loop' });
    expect(result.ok && result.events[0]?.properties['propertyValue']).toBeUndefined();
  });

  it('should read the older `eventType` name and ids sent as digit strings', () => {
    const { subscriptionType: _t, ...legacy } = CREATION;
    const result = normaliseHubSpot(
      body([{ ...legacy, eventType: 'contact.deletion', objectId: '98765432109876543' }]),
      {},
      RECEIVED,
    );
    expect(result.ok && result.events[0]).toMatchObject({
      type: 'CONTACT_DELETED',
      customer: { id: '98765432109876543' },
      properties: { privacyDeletion: false },
    });
  });

  it('should reject a batch with a subscription type it does not handle, naming the event', () => {
    const result = normaliseHubSpot(
      body([CREATION, { ...CREATION, subscriptionType: 'company.creation' }]),
      {},
      RECEIVED,
    );
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([expect.stringMatching(/^\[1\]\.subscriptionType: /)]);
  });

  it('should name each malformed field without quoting personal values', () => {
    const result = normaliseHubSpot(
      body([
        {
          ...PROPERTY_CHANGE,
          propertyName: 'email',
          propertyValue: 'secret.person@example.com',
          occurredAt: 'yesterday',
        },
        { ...CREATION, objectId: 'contact-12' },
        { ...PROPERTY_CHANGE, propertyName: undefined, propertyValue: 'Jane Q. Doe' },
      ]),
      {},
      RECEIVED,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
      expect.stringMatching(/^\[0\]\.occurredAt: /),
      expect.stringMatching(/^\[1\]\.objectId: /),
      '[2].propertyName: required for contact.propertyChange',
    ]);
    const text = result.problems.join('\n');
    expect(text).not.toContain('secret.person');
    expect(text).not.toContain('Jane');
  });

  it('should reject what is not a batch of 1 to 100 events', () => {
    expect(normaliseHubSpot(Buffer.from('[{"objectId":'), {}, RECEIVED)).toEqual({
      ok: false,
      problems: ['(body): not valid JSON'],
    });
    expect(normaliseHubSpot(body(PROPERTY_CHANGE), {}, RECEIVED)).toMatchObject({ ok: false });
    expect(normaliseHubSpot(body([]), {}, RECEIVED)).toMatchObject({ ok: false });
    const full = Array.from({ length: 100 }, (_, i) => ({ ...CREATION, eventId: i + 1 }));
    const accepted = normaliseHubSpot(body(full), {}, RECEIVED);
    expect(accepted.ok && accepted.events).toHaveLength(100);
    expect(new Set(accepted.ok ? accepted.events.map((e) => e.dedupeKey) : []).size).toBe(100);
    expect(normaliseHubSpot(body([...full, CREATION]), {}, RECEIVED)).toMatchObject({ ok: false });
  });
});
