/**
 * DEMO CREDENTIALS: not secrets. Only the embedded sandbox accepts them; Meta does not know them.
 * The descriptor hands them out.
 */
export const META_DEMO = {
  credentials: { accessToken: 'EAADEMO0000000000000000000000000000', adAccountId: '1234567890' },
} as const;
