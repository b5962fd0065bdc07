import { UpstreamError } from '../../lib/errors.js';
import type { RequestContext } from '../../lib/request-context.js';
import { UpstreamClient, type UpstreamGuard, type UpstreamThrottle } from '../../lib/upstream/client.js';
import { parseUpstream } from '../../lib/upstream/parse.js';
import { nextPageInfo, shopifyProtocol } from './protocol.js';
import {
  CUSTOMER_FIELDS,
  ORDER_FIELDS,
  toShopCustomer,
  toShopOrder,
  type ShopCustomer,
  type ShopOrder,
} from './records.js';
import { customerResponse, customersResponse, ordersResponse, shopResponse } from './schemas.js';

export interface ShopifySettings {
  /** `https://<shop>.myshopify.com/admin/api/<version>`. */
  baseUrl: string;
  accessToken: string;
  timeoutMs: number;
  maxRetries: number;
  throttle?: UpstreamThrottle;
  guard?: UpstreamGuard;
}

/** Shopify's documented maximums, and how many emails one search query carries. */
export const SHOPIFY_LIMITS = { page: 250, emailsPerSearch: 50 } as const;

export interface OrderRange {
  /** Orders created at or after this instant (epoch ms). */
  createdAtMinMs: number;
  /** Orders created at or before this instant (epoch ms). */
  createdAtMaxMs: number;
}

/** A term of Shopify's search syntax matching one email exactly, quoted so no address can break the query. */
const emailTerm = (email: string) => `email:"${email.replace(/["\\]/g, '\\$&')}"`;

/**
 * The commerce connector: Shopify Admin REST customers, orders and the shop, read-only. Answers in
 * the graph's conventions (ShopCustomer, ShopOrder); Shopify's names and shapes stay in this folder.
 */
export class ShopifyConnector {
  /** The shop's host; it scopes caches and limits so two shops never share them. */
  readonly accountId: string;
  private readonly http: UpstreamClient;

  constructor(settings: ShopifySettings) {
    this.accountId = new URL(settings.baseUrl).host;
    this.http = new UpstreamClient({
      protocol: shopifyProtocol(settings.accessToken),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      ...(settings.throttle ? { throttle: settings.throttle } : {}),
      ...(settings.guard ? { guard: settings.guard } : {}),
    });
  }

  /**
   * Shop customers by email, with one search call per 50 emails (`email:a OR email:b ...`). The map
   * answers every email asked, lower-cased: the customer, or null when the shop does not know it.
   */
  async findCustomersByEmail(
    ctx: RequestContext,
    emails: readonly string[],
  ): Promise<Map<string, ShopCustomer | null>> {
    const wanted = [...new Set(emails.map((e) => e.toLowerCase()))];
    const out = new Map<string, ShopCustomer | null>(wanted.map((e) => [e, null]));
    const chunks: string[][] = [];
    for (let i = 0; i < wanted.length; i += SHOPIFY_LIMITS.emailsPerSearch)
      chunks.push(wanted.slice(i, i + SHOPIFY_LIMITS.emailsPerSearch));
    const pages = await Promise.all(
      chunks.map((chunk) =>
        this.http.json(
          ctx,
          {
            method: 'GET',
            endpoint: 'GET /customers/search.json',
            path: '/customers/search.json',
            query: {
              query: chunk.map(emailTerm).join(' OR '),
              limit: SHOPIFY_LIMITS.page,
              fields: CUSTOMER_FIELDS.join(','),
            },
          },
          customersResponse,
        ),
      ),
    );
    for (const page of pages) {
      for (const found of page.customers) {
        const customer = toShopCustomer(found);
        // Search matches loosely; only an exact address answers the question asked.
        if (customer.email !== null && out.has(customer.email)) out.set(customer.email, customer);
      }
    }
    return out;
  }

  /** One customer by Shopify id; null when the shop has no such customer. */
  async getCustomer(ctx: RequestContext, id: string): Promise<ShopCustomer | null> {
    const endpoint = 'GET /customers/{id}.json';
    const response = await this.http.send(ctx, {
      method: 'GET',
      endpoint,
      path: `/customers/${encodeURIComponent(id)}.json`,
      query: { fields: CUSTOMER_FIELDS.join(',') },
      accept: [404],
    });
    if (response.status === 404) return null;
    return toShopCustomer(parseUpstream('shopify', endpoint, customerResponse, response.body).customer);
  }

  /** A customer's most recent orders, newest first, whatever their status; `limit` is at most 250. */
  async listCustomerOrders(
    ctx: RequestContext,
    customerId: string,
    page: { limit: number },
  ): Promise<ShopOrder[]> {
    if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > SHOPIFY_LIMITS.page)
      throw new RangeError(`limit must be from 1 to ${SHOPIFY_LIMITS.page}`);
    const endpoint = 'GET /customers/{id}/orders.json';
    const response = await this.http.send(ctx, {
      method: 'GET',
      endpoint,
      path: `/customers/${encodeURIComponent(customerId)}/orders.json`,
      // Shopify lists only open orders unless asked; fulfilled orders are archived (closed).
      query: { status: 'any', limit: page.limit, fields: ORDER_FIELDS.join(',') },
      accept: [404],
    });
    // A customer deleted between two calls has no orders rather than an error.
    if (response.status === 404) return [];
    const orders = parseUpstream('shopify', endpoint, ordersResponse, response.body).orders.map(toShopOrder);
    return orders.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Every order created in the range, whatever its status, following the `Link` header's next page
   * (250 per call) to the end.
   */
  async listOrders(ctx: RequestContext, range: OrderRange): Promise<ShopOrder[]> {
    const endpoint = 'GET /orders.json';
    const fields = ORDER_FIELDS.join(',');
    const out: ShopOrder[] = [];
    const seen = new Set<string>();
    let pageInfo: string | undefined;
    do {
      const response = await this.http.send(ctx, {
        method: 'GET',
        endpoint,
        path: '/orders.json',
        // A page_info request may carry only limit and fields: the filters travel inside the cursor.
        query: pageInfo
          ? { page_info: pageInfo, limit: SHOPIFY_LIMITS.page, fields }
          : {
              status: 'any',
              created_at_min: new Date(range.createdAtMinMs).toISOString(),
              created_at_max: new Date(range.createdAtMaxMs).toISOString(),
              limit: SHOPIFY_LIMITS.page,
              fields,
            },
      });
      out.push(...parseUpstream('shopify', endpoint, ordersResponse, response.body).orders.map(toShopOrder));
      pageInfo = nextPageInfo(response.headers);
      if (pageInfo !== undefined && seen.has(pageInfo)) {
        throw new UpstreamError('shopify: the Link header points back to a page already read', {
          platform: 'shopify',
          code: 'UPSTREAM_BAD_RESPONSE',
          endpoint,
        });
      }
      if (pageInfo !== undefined) seen.add(pageInfo);
    } while (pageInfo !== undefined);
    return out;
  }

  /** The shop's settings the graph needs: the currency its orders are in. */
  async getShop(ctx: RequestContext): Promise<{ currency: string }> {
    const body = await this.http.json(
      ctx,
      { method: 'GET', endpoint: 'GET /shop.json', path: '/shop.json', query: { fields: 'currency' } },
      shopResponse,
    );
    return { currency: body.shop.currency.toUpperCase() };
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
