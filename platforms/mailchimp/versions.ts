import type { ApiVersionPolicy } from '../kit/descriptor.js';

/** Mailchimp Marketing API 3.0 is the only version, with no announced end. */
export const MAILCHIMP_API_VERSIONS: ApiVersionPolicy = {
  latest: '3.0',
  policyUrl: 'https://mailchimp.com/developer/marketing/docs/fundamentals/',
  supportedUntil: () => null,
};
