import { env } from '../../lib/config/env.js';

/** Twilio configuration variables: the catalog (platforms/catalog.ts) composes them. */
export const twilioConfig = {
  TWILIO_WEBHOOK_SECRETS: env.secretList({
    description:
      "Twilio auth token(s) that sign `/webhooks/twilio` (`X-Twilio-Signature`): the account's primary token, and the secondary one while rotating; unset turns the endpoint off.",
  }),
  TWILIO_BASE_URL: env.url({
    description: 'Twilio REST API base URL, with the API version (`messaging` subgraph).',
    default: 'https://api.twilio.com/2010-04-01',
  }),
  TWILIO_ACCOUNT_SID: env.string({
    description: 'Twilio account SID (`AC…`): the account whose messages the `messaging` subgraph reads.',
    required: true,
  }),
  TWILIO_AUTH_TOKEN: env.secret({
    description:
      'Twilio auth token, sent with the account SID as HTTP Basic; or set `TWILIO_API_KEY_SID` and `TWILIO_API_KEY_SECRET` instead (preferred: a key can be revoked alone).',
  }),
  TWILIO_API_KEY_SID: env.string({
    description: 'Twilio API key SID (`SK…`), sent with `TWILIO_API_KEY_SECRET` as HTTP Basic.',
  }),
  TWILIO_API_KEY_SECRET: env.secret({ description: 'Secret of the Twilio API key `TWILIO_API_KEY_SID`.' }),
  TWILIO_FROM: env.string({
    description:
      'The sender customers receive texts from and reply to (E.164 number or short code): consent and message history are read for this sender.',
    required: true,
  }),
  TWILIO_MAX_CONCURRENT: env.int(1, 100, {
    description:
      'Requests the `messaging` connector has in flight at once. Twilio limits concurrent requests per account (its number is not published) and answers `429` with code 20429 beyond it.',
    default: '10',
  }),
  TWILIO_SANDBOX_PORT: env.port({ description: 'Port of the Twilio sandbox.', default: '4105' }),
} as const;
