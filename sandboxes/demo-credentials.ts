/**
 * DEMO CREDENTIALS: not secrets. Only the embedded sandboxes accept them; the real platforms do not
 * know them. `npm start` wires the subgraphs to the sandboxes with these so the demo runs offline.
 */
export const DEMO_CREDENTIALS = {
  hubspot: { accessToken: 'demo-hubspot-private-app-token', accountId: '4242420' },
  mailchimp: { apiKey: 'demo0000000000000000000000000000-us21', listId: 'a1b2c3d4e5' },
  shopify: {
    accessToken: 'shpat_demo00000000000000000000000000',
    shop: 'demo-outdoor-co',
    apiVersion: '2026-10',
  },
  meta: { accessToken: 'EAADEMO0000000000000000000000000000', adAccountId: '1234567890' },
} as const;
