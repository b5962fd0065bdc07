import type { ApiVersionPolicy } from '../kit/descriptor.js';

/** Twilio's REST API has kept the `2010-04-01` version since 2010, with no announced end. */
export const TWILIO_API_VERSIONS: ApiVersionPolicy = {
  latest: '2010-04-01',
  policyUrl: 'https://www.twilio.com/docs/usage/api',
  supportedUntil: () => null,
};
