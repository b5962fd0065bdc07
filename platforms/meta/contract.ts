import { z } from 'zod';
import { CONTRACT_CLIENT_SETTINGS, defineContract } from '../kit/contract.js';
import { MetaConnector } from './client/connector.js';
import type { MetaConnection } from './index.js';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const DAY = 86_400_000;

/** Meta's calls the `ads` subgraph makes, checked on the sandbox and on a real ad account. */
export const metaContract = defineContract<MetaConnection, MetaConnector>({
  platform: 'meta',
  liveVariables: ['META_ACCESS_TOKEN', 'META_AD_ACCOUNT_ID'],
  liveConnection: (env) => ({
    baseUrl: env['META_BASE_URL'] ?? 'https://graph.facebook.com/v25.0',
    accessToken: env['META_ACCESS_TOKEN']!,
    adAccountId: env['META_AD_ACCOUNT_ID']!,
  }),
  client: (connection) => new MetaConnector({ ...connection, ...CONTRACT_CLIENT_SETTINGS }),
  calls: [
    {
      name: 'GET /act_{id}/campaigns',
      run: (client, request) => client.listCampaigns(request),
      shape: z.array(
        z.object({
          id: z.string().min(1),
          name: z.string(),
          campaignKey: z.string().nullable(),
          status: z.enum(['ACTIVE', 'PAUSED', 'ARCHIVED', 'DELETED', 'OTHER']),
          objective: z.string().nullable(),
        }),
      ),
    },
    {
      name: 'GET /act_{id}/insights (level=campaign, last 7 days)',
      run: (client, request) =>
        client.campaignInsights(request, { since: day(Date.now() - 7 * DAY), until: day(Date.now()) }),
      shape: z.array(
        z.object({
          campaignId: z.string().min(1),
          campaignName: z.string(),
          campaignKey: z.string().nullable(),
          impressions: z.number().int().min(0),
          clicks: z.number().int().min(0),
          conversions: z.number().min(0),
          spend: z.object({ amount: z.string(), currency: z.string().length(3) }),
        }),
      ),
    },
  ],
});
