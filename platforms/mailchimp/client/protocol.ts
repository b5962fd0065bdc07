import { z } from 'zod';
import { readApiVersion } from '../../../lib/upstream/api-version.js';
import type { FailureDescription, PlatformProtocol } from '../../../lib/upstream/client.js';

/** Mailchimp's RFC 7807 problem body; some failures (403/429 under heavy load) come with none. */
export const problemBody = z
  .object({
    type: z.string().optional(),
    title: z.string().optional(),
    status: z.number().optional(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ field: z.string().optional(), message: z.string().optional() })).optional(),
  })
  .loose();

/**
 * Mailchimp has no OAuth scopes: an API key or OAuth token acts with the role of the user it
 * belongs to, so least privilege is the role of that user.
 */
export const MAILCHIMP_OAUTH_SCOPES: readonly string[] = [];

/**
 * HTTP Basic with any user name and the API key as password. The key only ever travels in this
 * header, and is cut out of any text Mailchimp echoes back before it reaches an error message.
 */
export function mailchimpProtocol(apiKey: string): PlatformProtocol {
  const headers = { authorization: `Basic ${Buffer.from(`marketing-graph:${apiKey}`).toString('base64')}` };
  const scrub = (text: string) => text.split(apiKey).join('[secret]');
  return {
    platform: 'mailchimp',
    authHeaders: () => headers,
    // Marketing API 3.0 has no version header; a retired endpoint would say so with Deprecation/Sunset.
    apiVersion: (responseHeaders) => readApiVersion(responseHeaders, {}),
    describeFailure(status, body): FailureDescription {
      const parsed = problemBody.safeParse(body);
      const data = parsed.success ? parsed.data : {};
      const fields = (data.errors ?? [])
        .slice(0, 3)
        .map((e) => `${e.field ?? '?'}: ${e.message ?? 'invalid'}`)
        .join('; ');
      const detail = [data.detail, fields].filter(Boolean).join(' ');
      const text = data.title ? `${data.title}${detail ? `: ${detail}` : ''}` : detail || `HTTP ${status}`;
      return {
        message: scrub(text).slice(0, 200),
        ...(data.title ? { upstreamCode: data.title } : {}),
        rateLimited: status === 429,
      };
    },
  };
}
