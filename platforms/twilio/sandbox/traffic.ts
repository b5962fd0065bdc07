import { z } from 'zod';
import {
  defineDemoEvent,
  pickCustomer,
  type DemoTraffic,
  type OutgoingWebhook,
  type TrafficContext,
} from '../../../sandboxes/kit/traffic.js';
import { TransitionError } from '../../../sandboxes/world/changes.js';
import type { Customer } from '../../../sandboxes/world/world.js';
import { TWILIO_DEMO } from '../demo.js';
import { e164 } from './history.js';
import { API_VERSION, type SandboxMessage } from './resources.js';
import { twilioWebhookHeaders } from './sign.js';
import { lastKeyword, receiveText } from './state.js';

/**
 * Twilio's incoming-message webhook in the demo: a customer texts the company's number, the
 * sandbox stores the text (and answers a keyword itself, as Twilio does), then the webhook says so,
 * form-encoded and signed with the account's auth token for the URL it is posted to. Status
 * callbacks are not traffic: the sandbox sends them for messages created with a `StatusCallback`.
 */

const { accountSid, from: sender } = TWILIO_DEMO.credentials;

/** The form Twilio posts to the number's incoming-message URL. */
export function incomingParams(message: SandboxMessage): Record<string, string> {
  return {
    AccountSid: accountSid,
    ApiVersion: API_VERSION,
    MessageSid: message.sid,
    SmsMessageSid: message.sid,
    SmsSid: message.sid,
    SmsStatus: 'received',
    From: message.from,
    To: message.to,
    Body: message.body,
    NumMedia: '0',
    NumSegments: String(message.segments),
  };
}

function incomingWebhook(context: TrafficContext, message: SandboxMessage): OutgoingWebhook {
  const params = incomingParams(message);
  const body = new URLSearchParams(params).toString();
  return {
    topic: 'incoming-message',
    url: context.endpoint,
    payload: params,
    // No timestamp in the signature: every attempt is the same request.
    attempt: () => ({ headers: twilioWebhookHeaders(context.secret, context.endpoint, params), body }),
  };
}

function phoneOf(customer: Customer): string {
  const phone = e164(customer.person.phone);
  if (phone === null) throw new TransitionError('The customer has no phone number that can send texts.');
  return phone;
}

const incomingMessage = defineDemoEvent({
  type: 'incoming-message',
  fields: {
    /** What the customer texts: `STOP`, `START`, anything. @default a thank-you */
    body: z.string().min(1).max(1600).default('Thanks!'),
  },
  happen(context, customer, fields, at) {
    const { message, reply } = receiveText(context.world, {
      accountSid,
      sender,
      phone: phoneOf(customer),
      body: fields.body,
      at,
    });
    return {
      applied: {
        messageSid: message.sid,
        reply: reply ? { messageSid: reply.sid, body: reply.body } : null,
      },
      webhooks: [incomingWebhook(context, message)],
    };
  },
});

export const TWILIO_TRAFFIC: DemoTraffic = {
  events: [incomingMessage],
  kinds: [
    {
      name: 'sms-reply',
      weight: 2,
      event: incomingMessage,
      draw(context) {
        const customer = pickCustomer(context, (c) => e164(c.person.phone) !== null);
        if (!customer) return undefined;
        // Someone who opted out mostly texts START; anyone else thanks, asks, or now and then stops.
        const out = lastKeyword(context.world, sender, phoneOf(customer), Date.now()) === 'out';
        const body = out
          ? context.random.weighted([
              ['START', 3],
              ['Thanks!', 1],
            ])
          : context.random.weighted([
              ['Thanks!', 6],
              ['Do you ship to Canada?', 2],
              ['STOP', 1],
            ]);
        return { customer, fields: { body } };
      },
    },
  ],
};
