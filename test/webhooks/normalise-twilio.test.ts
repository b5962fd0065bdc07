import { describe, expect, it } from 'vitest';
import { normaliseTwilio } from '../../platforms/twilio/webhooks/normalise.js';

const RECEIVED = new Date('2026-11-28T12:00:00.000Z');
const HEADERS = { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'TwilioProxy/1.1' };
const MESSAGE_SID = `SM${'a1'.repeat(16)}`;
const ACCOUNT_SID = `AC${'0'.repeat(30)}42`;
const form = (pairs: Record<string, string>) => new URLSearchParams(pairs).toString();
const normalise = (text: string) => normaliseTwilio(Buffer.from(text), HEADERS, RECEIVED);
const events = (pairs: Record<string, string>) => {
  const result = normalise(form(pairs));
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.events;
};

/** A status callback as Twilio posts it for a message the account sent. */
const status = (messageStatus: string, extra: Record<string, string> = {}) => ({
  SmsSid: MESSAGE_SID,
  SmsStatus: messageStatus,
  MessageStatus: messageStatus,
  To: '+14155550123',
  MessageSid: MESSAGE_SID,
  AccountSid: ACCOUNT_SID,
  From: '+15005550006',
  ApiVersion: '2010-04-01',
  ...extra,
});

/** An incoming message as Twilio posts it to the number's webhook. */
const incoming = (body: string, extra: Record<string, string> = {}) => ({
  ToCountry: 'US',
  SmsMessageSid: MESSAGE_SID,
  NumMedia: '0',
  SmsSid: MESSAGE_SID,
  SmsStatus: 'received',
  Body: body,
  To: '+15005550006',
  NumSegments: '1',
  MessageSid: MESSAGE_SID,
  AccountSid: ACCOUNT_SID,
  From: '+14155550123',
  ApiVersion: '2010-04-01',
  ...extra,
});

describe('Twilio normaliser', () => {
  it('should turn sent, delivered, undelivered and failed callbacks into SMS events, the number kept personal', () => {
    expect(events(status('delivered'))).toEqual([
      {
        dedupeKey: `twilio:${MESSAGE_SID}:delivered`,
        type: 'SMS_DELIVERED',
        source: 'twilio',
        occurredAt: RECEIVED.toISOString(),
        receivedAt: RECEIVED.toISOString(),
        customer: null,
        properties: {
          messageSid: MESSAGE_SID,
          accountSid: ACCOUNT_SID,
          status: 'delivered',
          errorCode: null,
        },
        personal: { phone: '+14155550123' },
      },
    ]);
    expect(events(status('sent')).map((e) => e.type)).toEqual(['SMS_SENT']);
    const [undelivered] = events(status('undelivered', { ErrorCode: '30003' }));
    expect(undelivered).toMatchObject({
      type: 'SMS_FAILED',
      properties: { status: 'undelivered', errorCode: 30003 },
    });
    const [failed] = events(status('failed', { ErrorCode: '30001' }));
    expect(failed).toMatchObject({ type: 'SMS_FAILED', properties: { errorCode: 30001 } });
    // One event per status of a message: a redelivered callback is the same event.
    expect(failed?.dedupeKey).toBe(`twilio:${MESSAGE_SID}:failed`);
  });

  it('should acknowledge statuses that are not final yet without an event', () => {
    for (const interim of ['queued', 'sending', 'accepted', 'scheduled'])
      expect(normalise(form(status(interim)))).toEqual({ ok: true, events: [] });
  });

  it('should turn an incoming message into SMS_RECEIVED, its text and number kept personal', () => {
    expect(events(incoming('Do you ship to Canada?'))).toEqual([
      {
        dedupeKey: `twilio:${MESSAGE_SID}`,
        type: 'SMS_RECEIVED',
        source: 'twilio',
        occurredAt: RECEIVED.toISOString(),
        receivedAt: RECEIVED.toISOString(),
        customer: null,
        properties: { messageSid: MESSAGE_SID, accountSid: ACCOUNT_SID },
        personal: { phone: '+14155550123', body: 'Do you ship to Canada?' },
      },
    ]);
  });

  it("should set optOut for Twilio's opt-out and opt-in keywords, in any case and with spaces", () => {
    for (const word of ['STOP', 'stop', ' Stop ', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'])
      expect(events(incoming(word))[0]?.properties).toMatchObject({
        optOut: true,
        keyword: word.trim().toUpperCase(),
      });
    for (const word of ['START', 'yes', 'Unstop'])
      expect(events(incoming(word))[0]?.properties).toMatchObject({
        optOut: false,
        keyword: word.toUpperCase(),
      });
    // Only the whole text is a keyword, as Twilio matches it.
    expect(events(incoming('please stop texting me'))[0]?.properties).not.toHaveProperty('optOut');
    expect(events(incoming('HELP'))[0]?.properties).not.toHaveProperty('optOut');
  });

  it("should take the Messaging Service's OptOutType when it sends one, never copying custom text", () => {
    const [custom] = events(incoming('ARRET', { OptOutType: 'STOP' }));
    expect(custom?.properties).toEqual({
      messageSid: MESSAGE_SID,
      accountSid: ACCOUNT_SID,
      optOut: true,
      keyword: null,
    });
    expect(events(incoming('Start', { OptOutType: 'START' }))[0]?.properties).toMatchObject({
      optOut: false,
      keyword: 'START',
    });
  });

  it('should name the fields that break the contract, never their values', () => {
    const result = normalise(form({ ...status('delivered'), MessageSid: 'SM-not-a-sid', To: '' }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([expect.stringMatching(/^MessageSid: /), expect.stringMatching(/^To: /)]);
    expect(result.problems.join(' ')).not.toContain('SM-not-a-sid');
    expect(normalise(form({ ...status('delivered'), MessageStatus: 'exploded' }))).toMatchObject({
      ok: false,
    });
    expect(normalise(`${form(incoming('hi'))}&Body=again`)).toEqual({
      ok: false,
      problems: ['Body: sent more than once'],
    });
    const { Body: _none, ...withoutBody } = incoming('x');
    expect(normalise(form(withoutBody))).toEqual({ ok: false, problems: [expect.stringMatching(/^Body: /)] });
  });
});
