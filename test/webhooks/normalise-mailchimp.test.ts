import { describe, expect, it } from 'vitest';
import { normaliseMailchimp } from '../../platforms/mailchimp/webhooks/normalise.js';

const RECEIVED = new Date('2026-11-28T12:00:00.000Z');
const HEADERS = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailChimp.com' };
/** The reference's subscribe example, verbatim. */
const SUBSCRIBE =
  'type=subscribe&fired_at=2009-03-26+21:35:57&data[id]=8a25ff1d98&data[list_id]=a6b5da1054&data[email]=api@mailchimp.com&data[email_type]=html&data[ip_opt]=10.20.10.30&data[ip_signup]=10.20.10.30&data[merges][EMAIL]=api@mailchimp.com&data[merges][FNAME]=Mailchimp&data[merges][INTERESTS]=Group1,Group2';
const normalise = (text: string) => normaliseMailchimp(Buffer.from(text), HEADERS, RECEIVED);
const only = (text: string) => {
  const result = normalise(text);
  if (!result.ok) throw new Error(result.problems.join('; '));
  expect(result.events).toHaveLength(1);
  const [event] = result.events;
  if (!event) throw new Error('no event');
  return event;
};
const form = (pairs: Record<string, string>) => new URLSearchParams(pairs).toString();

describe('Mailchimp normaliser', () => {
  it('should turn the reference subscribe into EMAIL_SUBSCRIBED, fired_at read as UTC', () => {
    const event = only(SUBSCRIBE);
    expect(event).toEqual({
      dedupeKey: expect.stringMatching(/^mailchimp:subscribe:[0-9a-f]{64}$/),
      type: 'EMAIL_SUBSCRIBED',
      source: 'mailchimp',
      occurredAt: '2009-03-26T21:35:57.000Z',
      receivedAt: RECEIVED.toISOString(),
      customer: { email: 'api@mailchimp.com' },
      properties: { listId: 'a6b5da1054', memberId: '8a25ff1d98', emailType: 'HTML' },
      personal: {
        firstName: 'Mailchimp',
        'mergeField.INTERESTS': 'Group1,Group2',
        ipSignup: '10.20.10.30',
        ipOpt: '10.20.10.30',
      },
    });
    expect(event.dedupeKey).not.toContain('api@mailchimp.com');
  });

  it('should turn unsubscribe into EMAIL_UNSUBSCRIBED with action, reason and campaign', () => {
    const event = only(
      form({
        type: 'unsubscribe',
        fired_at: '2026-11-28 09:15:02',
        'data[action]': 'unsub',
        'data[reason]': 'manual',
        'data[id]': '8a25ff1d98',
        'data[email]': 'Ada.Berg@Example.com',
        'data[email_type]': 'html',
        'data[list_id]': 'a6b5da1054',
        'data[campaign_id]': 'cb398d21d2',
        'data[merges][EMAIL]': 'Ada.Berg@Example.com',
      }),
    );
    expect(event).toMatchObject({
      type: 'EMAIL_UNSUBSCRIBED',
      occurredAt: '2026-11-28T09:15:02.000Z',
      customer: { email: 'ada.berg@example.com' },
      properties: {
        listId: 'a6b5da1054',
        memberId: '8a25ff1d98',
        action: 'UNSUBSCRIBE',
        reason: 'manual',
        campaignId: 'cb398d21d2',
      },
      personal: null,
    });
  });

  it('should turn cleaned into EMAIL_CLEANED and campaign into EMAIL_CAMPAIGN_SENT with no customer', () => {
    expect(
      only(
        form({
          type: 'cleaned',
          fired_at: '2026-11-28 09:16:00',
          'data[list_id]': 'a6b5da1054',
          'data[campaign_id]': '4fjk2ma9xd',
          'data[reason]': 'hard',
          'data[email]': 'bounced@example.org',
        }),
      ),
    ).toMatchObject({
      type: 'EMAIL_CLEANED',
      customer: { email: 'bounced@example.org' },
      properties: { listId: 'a6b5da1054', reason: 'HARD_BOUNCE', campaignId: '4fjk2ma9xd' },
    });
    expect(
      only(
        form({
          type: 'campaign',
          fired_at: '2026-11-28 09:17:00',
          'data[id]': '5aa2102003',
          'data[subject]': 'Spring trail sale: last chance',
          'data[status]': 'sent',
          'data[reason]': '',
          'data[list_id]': 'a6b5da1054',
        }),
      ),
    ).toMatchObject({
      type: 'EMAIL_CAMPAIGN_SENT',
      customer: null,
      properties: {
        campaignId: '5aa2102003',
        listId: 'a6b5da1054',
        subject: 'Spring trail sale: last chance',
        status: 'SENT',
        reason: null,
      },
      personal: null,
    });
  });

  it('should turn profile and upemail into CONTACT_UPDATED from mailchimp', () => {
    const profile = only(
      SUBSCRIBE.replace('type=subscribe', 'type=profile').replace('FNAME]=Mailchimp', 'FNAME]=Mailchimper'),
    );
    expect(profile).toMatchObject({
      type: 'CONTACT_UPDATED',
      source: 'mailchimp',
      customer: { email: 'api@mailchimp.com' },
      properties: { change: 'PROFILE', listId: 'a6b5da1054' },
      personal: { firstName: 'Mailchimper' },
    });
    const upemail = only(
      form({
        type: 'upemail',
        fired_at: '2026-11-28 09:18:00',
        'data[list_id]': 'a6b5da1054',
        'data[new_id]': '51aa6610c9',
        'data[new_email]': 'new.me@example.net',
        'data[old_email]': 'old.me@example.net',
      }),
    );
    expect(upemail).toMatchObject({
      type: 'CONTACT_UPDATED',
      customer: { email: 'new.me@example.net' },
      properties: { listId: 'a6b5da1054', memberId: '51aa6610c9', change: 'EMAIL' },
      personal: { previousEmail: 'old.me@example.net' },
    });
  });

  it('should give a redelivery the same key whatever the field order, and another event another key', () => {
    const reordered = SUBSCRIBE.split('&').reverse().join('&');
    expect(only(reordered).dedupeKey).toBe(only(SUBSCRIBE).dedupeKey);
    expect(only(SUBSCRIBE.replace('21:35:57', '21:35:58')).dedupeKey).not.toBe(only(SUBSCRIBE).dedupeKey);
    expect(only(SUBSCRIBE.replace('Group1,Group2', 'Group1')).dedupeKey).not.toBe(only(SUBSCRIBE).dedupeKey);
  });

  it('should name malformed fields without quoting their values', () => {
    const result = normalise(
      SUBSCRIBE.replace('2009-03-26+21:35:57', '2009-03-26T21:35:57Z').replace(
        'data[email]=api@mailchimp.com',
        'data[email]=private-person-at-home',
      ),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.split(':')[0])).toEqual(['fired_at', 'data.email']);
    expect(result.problems.join('\n')).not.toContain('private-person');
  });

  it('should refuse an unknown type, a key that is both value and group, and prototype keys', () => {
    const unknown = normalise(SUBSCRIBE.replace('type=subscribe', 'type=bounce'));
    expect(!unknown.ok && unknown.problems).toEqual([expect.stringMatching(/^type: /)]);
    expect(normalise(`${SUBSCRIBE}&data[merges]=flat`)).toEqual({
      ok: false,
      problems: ['data[merges]: sent both as a value and as a group'],
    });
    expect(normalise(`${SUBSCRIBE}&data[__proto__][polluted]=yes`)).toEqual({
      ok: false,
      problems: ['data[__proto__][polluted]: not a field name'],
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
