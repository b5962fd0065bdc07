/**
 * DEMO CREDENTIALS: not secrets. Only the embedded sandbox accepts them; Meta does not know them.
 * The descriptor hands them out.
 */
export const META_DEMO = {
  credentials: { accessToken: 'EAADEMO0000000000000000000000000000', adAccountId: '1234567890' },
  /**
   * What the demo ad account owns besides its campaigns: one pixel (a Conversions API dataset) and
   * one customer-file audience, at fixed ids so the demo's actions and syncs can name them; more
   * audiences come from `POST /act_{id}/customaudiences`, as on Meta.
   */
  assets: { pixelId: '1357924680135792', lapsedBuyersAudienceId: '23850000000100000' },
} as const;
