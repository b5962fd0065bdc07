import { z } from 'zod';
import { readApiVersion } from '../../../lib/upstream/api-version.js';
import type { FailureDescription, PlatformProtocol } from '../../../lib/upstream/client.js';
import { nextDailyReset } from './daily.js';

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
 * The OAuth scopes the `crm` subgraph's access token needs, and no more: it reads contacts and their
 * list memberships and never calls the connector's writes.
 */
export const HUBSPOT_OAUTH_SCOPES = ['crm.objects.contacts.read', 'crm.lists.read'] as const;

/**
 * What a token must add for the connector's writes (`connector.writes`: contact properties and notes
 * on contacts), for the process that runs actions and syncs.
 */
export const HUBSPOT_WRITE_SCOPES = ['crm.objects.contacts.write'] as const;

export function hubspotProtocol(accessToken: string, options: { timeZone?: string } = {}): PlatformProtocol {
  const headers = { authorization: `Bearer ${accessToken}` };
  const timeZone = options.timeZone ?? 'UTC';
  return {
    platform: 'hubspot',
    authHeaders: () => headers,
    // CRM v3 carries its version in the path; a retired endpoint says so with Deprecation/Sunset.
    apiVersion: (responseHeaders) => readApiVersion(responseHeaders, {}),
    describeFailure(status, body): FailureDescription {
      const parsed = errorBody.safeParse(body);
      const data = parsed.success ? parsed.data : {};
      const label = data.policyName ?? data.category;
      // The daily limit resets at midnight in the account's zone: waiting for it is not a retry.
      const daily = data.policyName === 'DAILY' ? nextDailyReset(Date.now(), timeZone) : undefined;
      return {
        message: `${label ? `${label}: ` : ''}${(data.message ?? `HTTP ${status}`).slice(0, 200)}`,
        ...(label ? { upstreamCode: label } : {}),
        rateLimited: status === 429 || data.errorType === 'RATE_LIMIT',
        ...(daily !== undefined
          ? {
              retryAfterSeconds: Math.ceil((daily - Date.now()) / 1000),
              resetsAt: new Date(daily).toISOString(),
            }
          : {}),
      };
    },
  };
}
