import { z } from 'zod';
import { CONTRACT_CLIENT_SETTINGS, defineContract } from '../kit/contract.js';
import { ShopifyConnector } from './client/connector.js';
import type { ShopifyConnection } from './index.js';

const money = z.object({ amount: z.string().regex(/^-?\d+(\.\d+)?$/), currency: z.string().length(3) });
const DAY = 86_400_000;

/** Shopify's calls the `commerce` subgraph makes, checked on the sandbox and on a real store. */
export const shopifyContract = defineContract<ShopifyConnection, ShopifyConnector>({
  platform: 'shopify',
  liveVariables: ['SHOPIFY_BASE_URL', 'SHOPIFY_ACCESS_TOKEN'],
  liveConnection: (env) => ({
    baseUrl: env['SHOPIFY_BASE_URL']!,
    accessToken: env['SHOPIFY_ACCESS_TOKEN']!,
  }),
  client: (connection) => new ShopifyConnector({ ...connection, ...CONTRACT_CLIENT_SETTINGS }),
  calls: [
    {
      name: 'GET /shop.json',
      run: (client, request) => client.getShop(request),
      shape: z.object({ currency: z.string().length(3) }),
    },
    {
      name: 'GET /customers/count.json',
      run: (client, request) => client.countCustomers(request),
      shape: z.number().int().min(0),
    },
    {
      name: 'GET /orders.json (last 7 days)',
      run: (client, request) =>
        client.listOrders(request, { createdAtMinMs: Date.now() - 7 * DAY, createdAtMaxMs: Date.now() }),
      shape: z.array(
        z.object({
          id: z.string().min(1),
          name: z.string(),
          createdAt: z.iso.datetime({ offset: true }),
          totalPrice: money,
          financialStatus: z.string(),
          utm: z.object({}).loose().nullable(),
          customerId: z.string().nullable(),
        }),
      ),
    },
  ],
});
