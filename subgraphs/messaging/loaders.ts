import DataLoader from 'dataloader';
import { UpstreamError } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import type { TwilioConnector } from '../../platforms/twilio/client/connector.js';
import type { SmsConsentRecord, SmsMessageRecord } from '../../platforms/twilio/client/records.js';

export interface MessagingLoaders {
  /** By E.164 number. A failed read fails only its own key. */
  consentByPhone: DataLoader<string, SmsConsentRecord>;
  /** By E.164 number and count. */
  messagesByPhone: DataLoader<{ phone: string; first: number }, SmsMessageRecord[], string>;
}

/** An upstream failure becomes that key's error; anything else is a defect and propagates. */
function settle<T>(read: Promise<T>): Promise<T | UpstreamError> {
  return read.catch((error: unknown) => {
    if (error instanceof UpstreamError) return error;
    throw error;
  });
}

/**
 * One set per request. Twilio has no batch read, so each number costs its own calls (one listing
 * for consent, two for messages); the loaders make sure a number asked about twice in one request
 * (customers sharing a phone) is read once.
 */
export function createMessagingLoaders(twilio: TwilioConnector, request: RequestContext): MessagingLoaders {
  return {
    consentByPhone: new DataLoader<string, SmsConsentRecord>((phones) =>
      Promise.all(phones.map((phone) => settle(twilio.consent(request, phone)))),
    ),
    messagesByPhone: new DataLoader<{ phone: string; first: number }, SmsMessageRecord[], string>(
      (keys) =>
        Promise.all(keys.map(({ phone, first }) => settle(twilio.recentMessages(request, phone, first)))),
      { cacheKeyFn: ({ phone, first }) => `${phone}:${first}` },
    ),
  };
}
