import type { ApiVersionPolicy } from '../kit/descriptor.js';

/** HubSpot's CRM v3 APIs have no announced end; sunsets are announced in its changelog. */
export const HUBSPOT_API_VERSIONS: ApiVersionPolicy = {
  latest: 'v3',
  policyUrl: 'https://developers.hubspot.com/changelog',
  supportedUntil: () => null,
};
