/**
 * What the sandbox's ad account owns besides its campaigns: one pixel (a Conversions API dataset)
 * and one customer-file audience, at fixed ids so the demo and its configuration can name them.
 * More audiences come from `POST /act_{id}/customaudiences`, as on Meta.
 */
export const META_SANDBOX_ASSETS = {
  pixelId: '1357924680135792',
  lapsedBuyersAudienceId: '23850000000100000',
} as const;
