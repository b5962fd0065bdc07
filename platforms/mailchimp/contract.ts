import { z } from 'zod';
import { CONTRACT_CLIENT_SETTINGS, defineContract } from '../kit/contract.js';
import { MailchimpConnector, mailchimpBaseUrl } from './client/connector.js';
import type { MailchimpConnection } from './index.js';

const member = z.object({
  email: z.string().includes('@'),
  status: z.enum(['SUBSCRIBED', 'UNSUBSCRIBED', 'CLEANED', 'PENDING', 'TRANSACTIONAL', 'ARCHIVED']),
  memberRating: z.number().int().min(0).max(5),
  optedInAt: z.iso.datetime().nullable(),
  lastChangedAt: z.iso.datetime(),
  vip: z.boolean(),
  avgOpenRate: z.number().min(0).max(1),
  avgClickRate: z.number().min(0).max(1),
});

const DAY = 86_400_000;

/** Mailchimp's calls the `email` subgraph makes, checked on the sandbox and on a real audience. */
export const mailchimpContract = defineContract<MailchimpConnection, MailchimpConnector>({
  platform: 'mailchimp',
  liveVariables: ['MAILCHIMP_API_KEY', 'MAILCHIMP_LIST_ID'],
  liveConnection: (env) => ({
    apiKey: env['MAILCHIMP_API_KEY']!,
    listId: env['MAILCHIMP_LIST_ID']!,
    baseUrl: env['MAILCHIMP_BASE_URL'] ?? mailchimpBaseUrl(env['MAILCHIMP_API_KEY']!),
  }),
  client: (connection) => new MailchimpConnector({ ...connection, ...CONTRACT_CLIENT_SETTINGS }),
  calls: [
    {
      name: 'GET /3.0/lists/{list_id}/members',
      run: (client, request) => client.listMembers(request, { count: 2, offset: 0 }),
      shape: z.object({ members: z.array(member).max(2), total: z.number().int().min(0) }),
    },
    {
      name: 'GET /3.0/reports (sent campaigns, last 30 days)',
      run: (client, request) =>
        client.listSentCampaigns(request, { sinceMs: Date.now() - 30 * DAY, untilMs: Date.now() }),
      shape: z.array(
        z
          .object({
            id: z.string().min(1),
            title: z.string(),
            subjectLine: z.string(),
            sentAt: z.iso.datetime(),
            campaignKey: z.string().nullable(),
            stats: z.object({}).loose(),
          })
          .loose(),
      ),
    },
  ],
});
