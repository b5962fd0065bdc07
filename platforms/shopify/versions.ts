import type { ApiVersionPolicy } from '../kit/descriptor.js';

/**
 * Shopify releases an Admin API version each quarter (`YYYY-01`, `-04`, `-07`, `-10`) and supports
 * each for at least 12 months from its release (shopify.dev/docs/api/usage/versioning): `2026-10`
 * is supported until 2027-10-01.
 */
export const SHOPIFY_API_VERSIONS: ApiVersionPolicy = {
  latest: '2026-10',
  policyUrl: 'https://shopify.dev/docs/api/usage/versioning',
  supportedUntil(version) {
    const match = /^(\d{4})-(01|04|07|10)$/.exec(version);
    if (!match) return null;
    return `${Number(match[1]) + 1}-${match[2]}-01`;
  },
};
