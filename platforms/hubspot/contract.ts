import { z } from 'zod';
import { CONTRACT_CLIENT_SETTINGS, defineContract } from '../kit/contract.js';
import { HubSpotConnector } from './client/connector.js';
import type { HubSpotConnection } from './index.js';

const customer = z.object({
  id: z.string().min(1),
  email: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  phone: z.string().nullable(),
  lifecycleStage: z.string().nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});

/** HubSpot's calls the `crm` subgraph makes, checked on the sandbox and on a real portal. */
export const hubspotContract = defineContract<HubSpotConnection, HubSpotConnector>({
  platform: 'hubspot',
  liveVariables: ['HUBSPOT_ACCESS_TOKEN'],
  liveConnection: (env) => ({
    baseUrl: env['HUBSPOT_BASE_URL'] ?? 'https://api.hubapi.com',
    accessToken: env['HUBSPOT_ACCESS_TOKEN']!,
    accountId: env['HUBSPOT_ACCOUNT_ID'] ?? 'default',
  }),
  client: (connection) => new HubSpotConnector({ ...connection, ...CONTRACT_CLIENT_SETTINGS }),
  calls: [
    {
      name: 'GET /crm/v3/objects/contacts',
      run: (client, request) => client.listContacts(request, { limit: 2 }),
      shape: z.object({ customers: z.array(customer).max(2), nextAfter: z.string().optional() }),
    },
  ],
});
