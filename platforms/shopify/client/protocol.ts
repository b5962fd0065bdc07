import { z } from 'zod';
import { readApiVersion } from '../../../lib/upstream/api-version.js';
import {
  retryAfterSeconds,
  type FailureDescription,
  type PlatformProtocol,
  type ResponseHeaders,
} from '../../../lib/upstream/client.js';

/** Shopify's REST error body: a sentence (`"Not Found"`) or messages per field (`{"email":["is invalid"]}`). */
const errorBody = z
  .object({
    errors: z.union([z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())]))]),
  })
  .loose();

function errorText(body: unknown): string | undefined {
  const parsed = errorBody.safeParse(body);
  if (!parsed.success) return undefined;
  const { errors } = parsed.data;
  if (typeof errors === 'string') return errors;
  return Object.entries(errors)
    .map(([field, messages]) => `${field}: ${[messages].flat().join(', ')}`)
    .join('; ');
}

/**
 * The Admin API access scopes the token needs, and no more: customers and orders, read only.
 * `read_all_orders` because without it Shopify answers only the last 60 days of orders, and
 * campaign revenue or a customer's order history over a longer range would silently come up short.
 */
export const SHOPIFY_OAUTH_SCOPES = ['read_customers', 'read_orders', 'read_all_orders'] as const;

/** The Admin API version a base URL asks for (`…/admin/api/2026-10`), or null. */
export function requestedShopifyVersion(baseUrl: string): string | null {
  return /\/admin\/api\/(\d{4}-\d{2})(?:\/|$)/.exec(new URL(baseUrl).pathname)?.[1] ?? null;
}

export function shopifyProtocol(
  accessToken: string,
  requestedVersion: string | null = null,
): PlatformProtocol {
  const headers = { 'x-shopify-access-token': accessToken };
  return {
    platform: 'shopify',
    authHeaders: () => headers,
    // Shopify serves the oldest supported version when asked for one past support, and names
    // deprecated usage in a header: both are read from every answer.
    apiVersion: (responseHeaders) =>
      readApiVersion(responseHeaders, {
        versionHeader: 'x-shopify-api-version',
        deprecatedReasonHeader: 'x-shopify-api-deprecated-reason',
        requested: requestedVersion,
      }),
    describeFailure(status, body, responseHeaders): FailureDescription {
      const retryAfter = retryAfterSeconds(responseHeaders);
      return {
        message: (errorText(body) ?? `HTTP ${status}`).slice(0, 200),
        rateLimited: status === 429,
        ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
      };
    },
  };
}

const LINK = /<([^>]*)>\s*;\s*rel="?([^",;]+)"?/g;

/**
 * The `page_info` of the `rel="next"` link in Shopify's `Link` header, used verbatim. Undefined when
 * there is no next page (no header at all means a single page).
 */
export function nextPageInfo(headers: ResponseHeaders): string | undefined {
  const raw = headers['link'];
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  if (!value) return undefined;
  for (const [, url = '', rel = ''] of value.matchAll(LINK)) {
    if (!rel.split(/\s+/).includes('next')) continue;
    try {
      return new URL(url).searchParams.get('page_info') ?? undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
