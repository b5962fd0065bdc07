import { env } from '../../lib/config/env.js';

/** Meta configuration variables: the catalog (platforms/catalog.ts) composes them. */
export const metaConfig = {
  META_BASE_URL: env.url({
    description: 'Meta Graph API base URL including the version.',
    default: 'https://graph.facebook.com/v25.0',
  }),
  META_ACCESS_TOKEN: env.secret({
    description: 'Meta system-user access token with `ads_read`.',
    required: true,
  }),
  META_INSIGHTS_CALLS_PER_HOUR: env.int(1, 100_000, {
    description:
      'Insights calls per rolling hour the `ads` connector allows itself before Meta would throttle the ad account; it also slows down as Meta reports usage.',
    default: '600',
  }),
  META_AD_ACCOUNT_ID: env.string({
    description: 'Meta ad account id (digits, without `act_`).',
    required: true,
  }),
  META_SANDBOX_PORT: env.port({ description: 'Port of the Meta sandbox.', default: '4104' }),
} as const;
