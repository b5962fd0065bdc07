import { z } from 'zod';
import type { FailureDescription, PlatformProtocol } from '../../../lib/upstream/client.js';

/** HubSpot's error body; every field is optional in practice. */
const errorBody = z
  .object({
    message: z.string().optional(),
    category: z.string().optional(),
    errorType: z.string().optional(),
    policyName: z.string().optional(),
  })
  .loose();

/**
 * The OAuth scopes the access token needs, and no more: the connector reads contacts and their list
 * memberships and writes nothing.
 */
export const HUBSPOT_OAUTH_SCOPES = ['crm.objects.contacts.read', 'crm.lists.read'] as const;

export function hubspotProtocol(accessToken: string): PlatformProtocol {
  const headers = { authorization: `Bearer ${accessToken}` };
  return {
    platform: 'hubspot',
    authHeaders: () => headers,
    describeFailure(status, body): FailureDescription {
      const parsed = errorBody.safeParse(body);
      const data = parsed.success ? parsed.data : {};
      const label = data.policyName ?? data.category;
      return {
        message: `${label ? `${label}: ` : ''}${(data.message ?? `HTTP ${status}`).slice(0, 200)}`,
        ...(label ? { upstreamCode: label } : {}),
        rateLimited: status === 429 || data.errorType === 'RATE_LIMIT',
      };
    },
  };
}
