import type { ShopifyConnector } from '../../platforms/shopify/client/connector.js';
import type { RequestContext } from '../../lib/request-context.js';
import { apiVersionRecord } from '../../lib/upstream/api-version.js';

/**
 * What `/health` says about the shop: scopes the token lacks (without `read_all_orders` only 60 days
 * of orders are visible, and fields needing older ones answer UPSTREAM_DATA_WITHHELD), whether
 * customers came back redacted, and the API version Shopify last served. A failed scope read is
 * reported, never a failed health check: the subgraph still serves.
 */
export async function shopifyHealth(shopify: ShopifyConnector, request: RequestContext) {
  const apiVersion = apiVersionRecord('shopify') ?? null;
  try {
    const grants = await shopify.grants(request);
    const warnings = [
      ...(grants.missingScopes.includes('read_all_orders')
        ? ['read_all_orders is not granted: Shopify shows only the last 60 days of orders']
        : []),
      ...(grants.protectedCustomerData
        ? []
        : ['customers come back redacted: the app has no level 2 protected customer data access']),
      ...(apiVersion?.deprecatedReason ? [`API version deprecated: ${apiVersion.deprecatedReason}`] : []),
    ];
    return { ...grants, apiVersion, warnings };
  } catch (error) {
    return { scopes: 'unknown', reason: (error as Error).message, apiVersion, warnings: [] };
  }
}
