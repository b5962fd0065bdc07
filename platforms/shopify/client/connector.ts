import { RecordCache } from '../../../lib/cache/record-cache.js';
import { toDateTime } from '../../../lib/dates.js';
import { UpstreamError } from '../../../lib/errors.js';
import type { RequestContext } from '../../../lib/request-context.js';
import { connectorGuard } from '../../../lib/upstream/breaker.js';
import {
  UpstreamClient,
  type QueryValue,
  type UpstreamResponse,
  type UpstreamThrottle,
} from '../../../lib/upstream/client.js';
import type { ConnectorSettings } from '../../../lib/upstream/connector-settings.js';
import { parseUpstream } from '../../../lib/upstream/parse.js';
import { SHOPIFY_DEFAULT_LIMITS, shopifyThrottle, type ShopifyLimits } from './limits.js';
import { nextPageInfo, requestedShopifyVersion, SHOPIFY_OAUTH_SCOPES, shopifyProtocol } from './protocol.js';
import {
  CUSTOMER_FIELDS,
  ORDER_FIELDS,
  toShopCustomer,
  toShopOrder,
  type ShopCustomer,
  type ShopOrder,
} from './records.js';
import { ordersWithheld, protectedDataWithheld, RECENT_ORDERS_MS } from './withheld.js';
import {
  accessScopesResponse,
  countResponse,
  customerResponse,
  customersResponse,
  orderInstantsResponse,
  ordersResponse,
  shopResponse,
} from './schemas.js';
import { leaseAccountThrottle, type ThrottleLease } from '../../../lib/upstream/account-throttles.js';

/**
 * Shopify's own settings; the cache (shop customers, orders, the shop), throttle and breaker are
 * every connector's.
 */
export interface ShopifySettings extends ConnectorSettings {
  /** `https://<shop>.myshopify.com/admin/api/<version>`. */
  baseUrl: string;
  accessToken: string;
  /** Shopify's REST limit for this store's plan. @default SHOPIFY_DEFAULT_LIMITS (bucket of 40, leaking 2/s) */
  limits?: Partial<ShopifyLimits>;
}

/** Shopify's documented maximums, and how many emails one search query carries. */
export const SHOPIFY_LIMITS = { page: 250, emailsPerSearch: 50 } as const;

export interface OrderRange {
  /** Orders created at or after this instant (epoch ms). */
  createdAtMinMs: number;
  /** Orders created at or before this instant (epoch ms). */
  createdAtMaxMs: number;
}

/** The shop's host (`demo-outdoor-co.myshopify.com`): it scopes caches and limits so two shops never share them. */
export function shopAccountId(baseUrl: string): string {
  return new URL(baseUrl).host;
}

/** A term of Shopify's search syntax matching one email exactly, quoted so no address can break the query. */
const emailTerm = (email: string) => `email:"${email.replace(/["\\]/g, '\\$&')}"`;

/**
 * Record cache layout. Customers and their orders live under `orders`; listings over a range and
 * the shop under `campaignReports`. A customer's orders are stored with the `limit` they were read
 * with, so a later read of at most as many (or of a customer who has fewer) is served from it.
 */
const KEY = {
  customerByEmail: (email: string) => `email:${email}`,
  ordersOfCustomer: (customerId: string) => `customer-orders:${customerId}`,
  orderCreatedAt: (orderId: string) => `order-created:${orderId}`,
  customerCount: 'customers-count',
  ordersInRange: (range: OrderRange) =>
    `orders:${new Date(range.createdAtMinMs).toISOString()}/${new Date(range.createdAtMaxMs).toISOString()}`,
  shop: 'shop',
} as const;

interface CachedOrders {
  limit: number;
  orders: ShopOrder[];
}

/** A listing to read page by page; each caller parses the pages with its own schema. */
interface ListingCall {
  endpoint: string;
  path: string;
  /** The first page's query; later pages send only `page_info`, `limit` and `fields`. */
  query: Record<string, QueryValue>;
  fields: string;
}

/**
 * The commerce connector: Shopify Admin REST customers, orders and the shop, read-only. Answers in
 * the graph's conventions (ShopCustomer, ShopOrder); Shopify's names and shapes stay in this folder.
 */
export class ShopifyConnector {
  /** The shop's host; it scopes caches and limits so two shops never share them. */
  readonly accountId: string;
  private readonly http: UpstreamClient;
  private readonly cache: RecordCache;
  /** The token's scopes, read once (they change only when the merchant re-authorises the app). */
  private scopes: Promise<ReadonlySet<string>> | undefined;
  /** Shopify answered customers with their email redacted: the app lacks level 2 customer data. */
  private redactedSeen = false;

  /** This account's throttle, shared with the process's other connectors to it (account-throttles.ts). */
  private readonly throttleLease: ThrottleLease<UpstreamThrottle>;

  constructor(settings: ShopifySettings) {
    this.accountId = shopAccountId(settings.baseUrl);
    this.cache = settings.cache ?? RecordCache.off('shopify', this.accountId);
    const limits = { ...SHOPIFY_DEFAULT_LIMITS, ...settings.limits };
    this.throttleLease = leaseAccountThrottle(
      settings.throttle,
      { platform: 'shopify', baseUrl: settings.baseUrl, account: this.accountId, limits },
      (share) => shopifyThrottle(limits, share),
    );
    this.http = new UpstreamClient({
      protocol: shopifyProtocol(settings.accessToken, requestedShopifyVersion(settings.baseUrl)),
      baseUrl: settings.baseUrl,
      timeoutMs: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      throttle: this.throttleLease.throttle,
      // The breaker's own cheap read, once it has been open a while; never a user's request.
      guard: connectorGuard('shopify', settings, (logger) =>
        this.http.probe(
          {
            method: 'GET',
            endpoint: 'GET /shop.json',
            path: '/shop.json',
            query: { fields: 'currency' },
          },
          logger,
        ),
      ),
    });
  }

  /**
   * Shop customers by email, in as few calls as Shopify allows: searches of 50 emails
   * (`email:a OR email:b ...`, ceil(n/50) calls), or a scan of every customer, 250 per page, plus
   * one count, when that is fewer calls. The map answers every email asked, lower-cased: the
   * customer, or null when the shop does not know it. Cached per email, absences included.
   */
  async findCustomersByEmail(
    ctx: RequestContext,
    emails: readonly string[],
  ): Promise<Map<string, ShopCustomer | null>> {
    const wanted = [...new Set(emails.map((e) => e.toLowerCase()))];
    const loaded = await this.cache.load<ShopCustomer>(
      'orders',
      wanted.map(KEY.customerByEmail),
      async (missing) => {
        const found = await this.fetchCustomersByEmail(
          ctx,
          missing.map((key) => key.slice(KEY.customerByEmail('').length)),
        );
        return new Map([...found].map(([email, customer]) => [KEY.customerByEmail(email), customer]));
      },
    );
    return new Map(
      wanted.map((email) => {
        const value = loaded.get(KEY.customerByEmail(email)) ?? null;
        if (value instanceof Error) throw value;
        return [email, value];
      }),
    );
  }

  private async fetchCustomersByEmail(
    ctx: RequestContext,
    wanted: readonly string[],
  ): Promise<Map<string, ShopCustomer | null>> {
    if (wanted.length === 0) return new Map();
    const searches = Math.ceil(wanted.length / SHOPIFY_LIMITS.emailsPerSearch);
    return (await this.scanIsCheaper(ctx, searches))
      ? this.scanCustomers(ctx, wanted)
      : this.searchCustomers(ctx, wanted);
  }

  /**
   * Whether reading every customer takes fewer calls than `searches`. A scan costs at least the
   * count and one page, so the count is only asked when the searches would take more than two.
   */
  private async scanIsCheaper(ctx: RequestContext, searches: number): Promise<boolean> {
    const cached = await this.cache.lookupOne<number>('orders', KEY.customerCount);
    if (cached.state !== 'found' && searches <= 2) return false;
    const count = cached.state === 'found' ? cached.value : await this.countCustomers(ctx);
    return Math.max(1, Math.ceil(count / SHOPIFY_LIMITS.page)) < searches;
  }

  /**
   * The access scopes the token was granted (`GET /admin/oauth/access_scopes.json`, outside the
   * versioned API), read once; a failed read is not remembered.
   */
  grantedScopes(ctx: RequestContext): Promise<ReadonlySet<string>> {
    this.scopes ??= this.http
      .json(
        ctx,
        {
          method: 'GET',
          endpoint: 'GET /admin/oauth/access_scopes.json',
          path: '/admin/oauth/access_scopes.json',
          fromOrigin: true,
        },
        accessScopesResponse,
      )
      .then((body) => new Set(body.access_scopes.map((s) => s.handle)))
      .catch((error: unknown) => {
        this.scopes = undefined;
        throw error;
      });
    return this.scopes;
  }

  /**
   * Null when Shopify shows every order the question needs; otherwise the error that says it does
   * not: without `read_all_orders` only orders of the last 60 days are visible. `sinceMs` is the
   * oldest order the question needs; absent means any order, however old.
   */
  async ordersWithheld(ctx: RequestContext, sinceMs?: number): Promise<UpstreamError | null> {
    if (sinceMs !== undefined && sinceMs >= Date.now() - RECENT_ORDERS_MS) return null;
    return (await this.grantedScopes(ctx)).has('read_all_orders') ? null : ordersWithheld();
  }

  /** What health reports about this shop's grants: missing scopes, and redacted customer data seen. */
  async grants(ctx: RequestContext): Promise<{ missingScopes: string[]; protectedCustomerData: boolean }> {
    const granted = await this.grantedScopes(ctx);
    return {
      missingScopes: SHOPIFY_OAUTH_SCOPES.filter((scope) => !granted.has(scope)),
      protectedCustomerData: !this.redactedSeen,
    };
  }

  private redacted(): UpstreamError {
    this.redactedSeen = true;
    return protectedDataWithheld();
  }

  /** How many customers the shop has (`GET /customers/count.json`), cached with the customers. */
  async countCustomers(ctx: RequestContext): Promise<number> {
    return this.cache.loadOne('orders', KEY.customerCount, async () => {
      const body = await this.http.json(
        ctx,
        { method: 'GET', endpoint: 'GET /customers/count.json', path: '/customers/count.json' },
        countResponse,
      );
      return body.count;
    });
  }

  private async searchCustomers(
    ctx: RequestContext,
    wanted: readonly string[],
  ): Promise<Map<string, ShopCustomer | null>> {
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
      // A search by email matches only customers with that email: one without means Shopify
      // redacted it (no level 2 protected customer data), and no customer can be matched.
      if (page.customers.some((c) => c.email === null)) throw this.redacted();
      for (const found of page.customers) {
        const customer = toShopCustomer(found);
        // Search matches loosely; only an exact address answers the question asked.
        if (customer.email !== null && out.has(customer.email)) out.set(customer.email, customer);
      }
    }
    return out;
  }

  /**
   * Reads the customer listing page by page until every wanted email is found or the listing ends.
   * Every customer seen is cached, so the next look-ups of anyone in the shop cost nothing.
   */
  private async scanCustomers(
    ctx: RequestContext,
    wanted: readonly string[],
  ): Promise<Map<string, ShopCustomer | null>> {
    const out = new Map<string, ShopCustomer | null>(wanted.map((e) => [e, null]));
    const pending = new Set(wanted);
    const fields = CUSTOMER_FIELDS.join(',');
    const endpoint = 'GET /customers.json';
    for await (const response of this.pages(ctx, {
      endpoint,
      path: '/customers.json',
      query: { limit: SHOPIFY_LIMITS.page, fields },
      fields,
    })) {
      const customers = parseUpstream('shopify', endpoint, customersResponse, response.body).customers.map(
        toShopCustomer,
      );
      const withEmail = customers.filter((c): c is ShopCustomer & { email: string } => c.email !== null);
      // A whole page without one email is Shopify redacting them, not a shop of phone-only buyers.
      if (customers.length > 0 && withEmail.length === 0) throw this.redacted();
      await this.cache.setMany<ShopCustomer>(
        'orders',
        withEmail.map((c) => [KEY.customerByEmail(c.email), c] as const),
      );
      for (const customer of withEmail) {
        if (!out.has(customer.email)) continue;
        out.set(customer.email, customer);
        pending.delete(customer.email);
      }
      if (pending.size === 0) break;
    }
    return out;
  }

  /**
   * Forgets what is cached about one shop customer: the record found by their email and their
   * orders (for when Shopify says the customer or one of their orders changed).
   */
  async invalidateCustomer(email: string): Promise<void> {
    const key = KEY.customerByEmail(email.toLowerCase());
    const cached = await this.cache.lookupOne<ShopCustomer>('orders', key);
    await Promise.all([
      this.cache.invalidate('orders', key),
      ...(cached.state === 'found'
        ? [this.cache.invalidate('orders', KEY.ordersOfCustomer(cached.value.id))]
        : []),
    ]);
  }

  /** One customer by Shopify id; null when the shop has no such customer. Not cached. */
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

  /**
   * A customer's most recent orders, newest first, whatever their status; `limit` is at most 250.
   * Cached per customer: a read of fewer orders than a cached one is served from it.
   */
  async listCustomerOrders(
    ctx: RequestContext,
    customerId: string,
    page: { limit: number },
  ): Promise<ShopOrder[]> {
    if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > SHOPIFY_LIMITS.page)
      throw new RangeError(`limit must be from 1 to ${SHOPIFY_LIMITS.page}`);
    const key = KEY.ordersOfCustomer(customerId);
    const lookup = await this.cache.lookupOne<CachedOrders>('orders', key);
    const cached = lookup.state === 'found' ? lookup.value : undefined;
    // Fewer orders than were asked for means the customer has no more.
    if (cached && (cached.orders.length >= page.limit || cached.orders.length < cached.limit))
      return cached.orders.slice(0, page.limit);
    const orders = await this.fetchCustomerOrders(ctx, customerId, page.limit);
    await this.cache.setMany<CachedOrders>('orders', [[key, { limit: page.limit, orders }]]);
    return orders;
  }

  private async fetchCustomerOrders(
    ctx: RequestContext,
    customerId: string,
    limit: number,
  ): Promise<ShopOrder[]> {
    const endpoint = 'GET /customers/{id}/orders.json';
    const response = await this.http.send(ctx, {
      method: 'GET',
      endpoint,
      path: `/customers/${encodeURIComponent(customerId)}/orders.json`,
      // Shopify lists only open orders unless asked; fulfilled orders are archived (closed).
      query: { status: 'any', limit, fields: ORDER_FIELDS.join(',') },
      accept: [404],
    });
    // A customer deleted between two calls has no orders rather than an error.
    if (response.status === 404) return [];
    const orders = parseUpstream('shopify', endpoint, ordersResponse, response.body).orders.map(toShopOrder);
    return orders.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * When each order was created (DateTime), by order id, with one call per 250 orders
   * (`orders.json?ids=…&fields=id,created_at`); null for an order the shop does not have. A
   * customer's `lastOrderId` gives their last order's time this way without reading their orders.
   */
  async getOrderCreatedAt(
    ctx: RequestContext,
    orderIds: readonly string[],
  ): Promise<Map<string, string | null>> {
    const ids = [...new Set(orderIds)];
    // When an order was placed never changes, so these entries need no invalidation.
    const loaded = await this.cache.load<string>('orders', ids.map(KEY.orderCreatedAt), async (missing) => {
      const found = await this.fetchOrderCreatedAt(
        ctx,
        missing.map((key) => key.slice(KEY.orderCreatedAt('').length)),
      );
      return new Map([...found].map(([id, at]) => [KEY.orderCreatedAt(id), at]));
    });
    return new Map(
      ids.map((id) => {
        const value = loaded.get(KEY.orderCreatedAt(id)) ?? null;
        if (value instanceof Error) throw value;
        return [id, value];
      }),
    );
  }

  private async fetchOrderCreatedAt(
    ctx: RequestContext,
    ids: readonly string[],
  ): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>(ids.map((id) => [id, null]));
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += SHOPIFY_LIMITS.page)
      chunks.push(ids.slice(i, i + SHOPIFY_LIMITS.page));
    const endpoint = 'GET /orders.json';
    const pages = await Promise.all(
      chunks.map((chunk) =>
        this.http.json(
          ctx,
          {
            method: 'GET',
            endpoint,
            path: '/orders.json',
            query: {
              ids: chunk.join(','),
              status: 'any',
              limit: SHOPIFY_LIMITS.page,
              fields: 'id,created_at',
            },
          },
          orderInstantsResponse,
        ),
      ),
    );
    for (const page of pages)
      for (const order of page.orders)
        if (out.has(String(order.id))) out.set(String(order.id), toDateTime(order.created_at));
    return out;
  }

  /**
   * Every order created in the range, whatever its status, following the `Link` header's next page
   * (250 per call) to the end. Cached per range as a campaign report.
   */
  async listOrders(ctx: RequestContext, range: OrderRange): Promise<ShopOrder[]> {
    return this.cache.loadOne('campaignReports', KEY.ordersInRange(range), async () => {
      const endpoint = 'GET /orders.json';
      const fields = ORDER_FIELDS.join(',');
      const out: ShopOrder[] = [];
      for await (const response of this.pages(ctx, {
        endpoint,
        path: '/orders.json',
        query: {
          status: 'any',
          created_at_min: new Date(range.createdAtMinMs).toISOString(),
          created_at_max: new Date(range.createdAtMaxMs).toISOString(),
          limit: SHOPIFY_LIMITS.page,
          fields,
        },
        fields,
      }))
        out.push(
          ...parseUpstream('shopify', endpoint, ordersResponse, response.body).orders.map(toShopOrder),
        );
      return out;
    });
  }

  /** The shop's settings the graph needs: the currency its orders are in (cached as a campaign report). */
  async getShop(ctx: RequestContext): Promise<{ currency: string }> {
    return this.cache.loadOne('campaignReports', KEY.shop, async () => {
      const body = await this.http.json(
        ctx,
        { method: 'GET', endpoint: 'GET /shop.json', path: '/shop.json', query: { fields: 'currency' } },
        shopResponse,
      );
      return { currency: body.shop.currency.toUpperCase() };
    });
  }

  /**
   * The pages of a listing, following the `Link` header's `rel="next"` until there is none. A
   * `page_info` request may carry only limit and fields: the filters travel inside the cursor.
   */
  private async *pages(ctx: RequestContext, listing: ListingCall): AsyncGenerator<UpstreamResponse> {
    const seen = new Set<string>();
    let pageInfo: string | undefined;
    do {
      const response = await this.http.send(ctx, {
        method: 'GET',
        endpoint: listing.endpoint,
        path: listing.path,
        query: pageInfo
          ? { page_info: pageInfo, limit: SHOPIFY_LIMITS.page, fields: listing.fields }
          : listing.query,
      });
      yield response;
      pageInfo = nextPageInfo(response.headers);
      if (pageInfo !== undefined && seen.has(pageInfo)) {
        throw new UpstreamError('shopify: the Link header points back to a page already read', {
          platform: 'shopify',
          code: 'UPSTREAM_BAD_RESPONSE',
          endpoint: listing.endpoint,
        });
      }
      if (pageInfo !== undefined) seen.add(pageInfo);
    } while (pageInfo !== undefined);
  }

  close(): Promise<void> {
    this.throttleLease.release();
    return this.http.close();
  }
}
