import type { ApiVersionPolicy } from '../kit/descriptor.js';

/**
 * Meta guarantees each Graph API version for at least two years from its release
 * (developers.facebook.com/docs/graph-api/changelog/versions). Release dates as published in that
 * changelog; a version not in this table has no known end here.
 */
const RELEASED: Record<string, string> = {
  'v21.0': '2024-10-02',
  'v22.0': '2025-01-21',
  'v23.0': '2025-05-29',
  'v24.0': '2025-10-08',
  'v25.0': '2026-02-18',
};

export const META_API_VERSIONS: ApiVersionPolicy = {
  latest: 'v25.0',
  policyUrl: 'https://developers.facebook.com/docs/graph-api/changelog/versions',
  supportedUntil(version) {
    const released = RELEASED[version];
    if (!released) return null;
    return `${Number(released.slice(0, 4)) + 2}${released.slice(4)}`;
  },
};
