import { env } from '../../lib/config/env.js';

/** Mailchimp configuration variables: the catalog (platforms/catalog.ts) composes them. */
export const mailchimpConfig = {
  MAILCHIMP_WEBHOOK_SECRETS: env.secretList({
    description:
      'Secret(s) in the `?secret=` of the URL registered with Mailchimp for `/webhooks/mailchimp`.',
  }),
  MAILCHIMP_API_KEY: env.secret({
    description: 'Mailchimp API key (`<key>-<dc>`); the data centre suffix picks the base URL.',
    required: true,
  }),
  MAILCHIMP_BASE_URL: env.url({
    description: 'Mailchimp API base URL; defaults to `https://<dc>.api.mailchimp.com/3.0` from the key.',
  }),
  MAILCHIMP_MAX_CONNECTIONS: env.int(1, 100, {
    description: "Simultaneous connections the `email` connector opens to Mailchimp (Mailchimp's cap is 10).",
    default: '10',
  }),
  MAILCHIMP_LIST_ID: env.string({
    description: 'Mailchimp audience (list) id the `email` subgraph reads.',
    required: true,
  }),
  MAILCHIMP_SANDBOX_PORT: env.port({ description: 'Port of the Mailchimp sandbox.', default: '4102' }),
} as const;
