import { z } from 'zod';
import { CONTRACT_CLIENT_SETTINGS, defineContract } from '../kit/contract.js';
import { TwilioConnector } from './client/connector.js';
import { MESSAGE_STATUSES } from './client/schemas.js';
import { TWILIO_API_VERSION } from './client/protocol.js';
import type { TwilioConnection } from './index.js';
import { OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS } from './keywords.js';

const message = z.object({
  id: z.string().regex(/^(SM|MM)[0-9a-f]{32}$/, 'a message SID'),
  direction: z.enum(['INBOUND', 'OUTBOUND']),
  status: z.enum(MESSAGE_STATUSES.map((status) => status.toUpperCase()) as [string, ...string[]]),
  from: z.string().nullable(),
  to: z.string(),
  body: z.string().nullable(),
  segments: z.number().int().min(0),
  errorCode: z.number().int().nullable(),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
});

/**
 * A number that never texts the sender: Twilio's own test number for "a valid mobile", so a live
 * consent read lists nothing and changes nothing.
 */
const QUIET_NUMBER = '+15005550006';

/**
 * Twilio's reads the `messaging` subgraph makes (a number's recent messages, one message, a
 * number's consent), checked on the sandbox and on a real account. Live runs use an API key (the
 * credential the least-privilege advice asks for), never the auth token.
 */
export const twilioContract = defineContract<TwilioConnection, TwilioConnector>({
  platform: 'twilio',
  liveVariables: ['TWILIO_ACCOUNT_SID', 'TWILIO_API_KEY_SID', 'TWILIO_API_KEY_SECRET', 'TWILIO_FROM'],
  liveConnection: (env) => ({
    baseUrl: env['TWILIO_BASE_URL'] ?? `https://api.twilio.com/${TWILIO_API_VERSION}`,
    credentials: {
      accountSid: env['TWILIO_ACCOUNT_SID']!,
      apiKeySid: env['TWILIO_API_KEY_SID']!,
      apiKeySecret: env['TWILIO_API_KEY_SECRET']!,
    },
    from: env['TWILIO_FROM']!,
  }),
  client: (connection) =>
    new TwilioConnector({
      baseUrl: connection.baseUrl,
      credentials: connection.credentials,
      from: connection.from,
      ...CONTRACT_CLIENT_SETTINGS,
    }),
  calls: [
    {
      name: 'GET /2010-04-01/Accounts/{sid}/Messages.json (PageSize=2)',
      run: (client, request) => client.listMessages(request, {}, { limit: 2, pageSize: 2 }),
      shape: z.array(message).max(2),
    },
    {
      name: 'GET /2010-04-01/Accounts/{sid}/Messages/{message_sid}.json (the newest message)',
      run: async (client, request) => {
        const [newest] = await client.listMessages(request, {}, { limit: 1, pageSize: 1 });
        return newest ? client.getMessage(request, newest.id) : null;
      },
      shape: message.nullable(),
    },
    {
      name: 'GET /2010-04-01/Accounts/{sid}/Messages.json (a number’s consent keywords)',
      run: (client, request) => client.consent(request, QUIET_NUMBER),
      shape: z.object({
        phone: z.literal(QUIET_NUMBER),
        status: z.enum(['OPTED_IN', 'OPTED_OUT', 'NEVER_OPTED_OUT']),
        keyword: z.enum([...OPT_OUT_KEYWORDS, ...OPT_IN_KEYWORDS]).nullable(),
        changedAt: z.iso.datetime().nullable(),
      }),
    },
  ],
});
