import { LeakyBucket } from '../../../sandboxes/kit/limits.js';
import type {
  Admission,
  PlatformSandbox,
  Route,
  SandboxRequest,
  SandboxResponse,
} from '../../../sandboxes/kit/types.js';
import { derived } from '../../../sandboxes/world/derived.js';
import type { Customer, Order, World } from '../../../sandboxes/world/world.js';
import { fieldsParam, invalid, limitParam, paginate, type ListingSpec } from './paging.js';
import {
  closedAt,
  customerJson,
  orderJson,
  ordersOf,
  pickFields,
  shopInstant,
  shopJson,
} from './resources.js';
import { searchCustomers } from './search.js';
import { shopifyAppRoutes, ShopifyAppSettings, type ShopifyAppInput } from './app.js';

/**
 * Shopify's Admin REST API as the `commerce` connector uses it: customers (list, count, get, search,
 * their orders), orders (list, get) and the shop, under `/admin/api/{YYYY-MM}/`, with Shopify's access
 * token header, `Link`/`page_info` cursor paging, `fields=`, error bodies and its leaky bucket
 * (40 calls per app and store, leaking 2 per second, `X-Shopify-Shop-Api-Call-Limit` on every answer).
 * Listings come oldest first (orders by creation, customers by id); a customer's orders newest first.
 */

export interface ShopifySandboxOptions {
  world: World;
  accessToken: string;
  /** Calls the bucket holds before answering 429. @default 40 (Standard plan) */
  bucketSize?: number;
  /** Calls the bucket leaks per second. @default 2 (Standard plan) */
  leakPerSecond?: number;
  /** The shop's domain, written into `Link` headers and `shop.json`. @default 'demo-outdoor-co.myshopify.com' */
  shopDomain?: string;
  /**
   * What the app was granted (scopes, protected customer data level) and which API versions
   * Shopify flags as deprecated; changeable later with `PUT /__sandbox/shopify/app`.
   * @default every scope the connector asks for, level 2 customer data, nothing deprecated
   */
  app?: ShopifyAppInput;
}

const VERSION = /^\d{4}-(0[1-9]|1[0-2])$/;
const API_PREFIX = /^\/admin\/api\/([^/]+)\//;
const ORDER_STATUSES = new Set(['open', 'closed', 'cancelled', 'any']);
const INVALID_TOKEN = '[API] Invalid API key or access token (unrecognized login or wrong password)';
/** Shopify always asks for two seconds, whatever the bucket's level. */
const RETRY_AFTER_SECONDS = 2;

type Json = Record<string, unknown>;

const notFound = (): SandboxResponse => ({ status: 404, json: { errors: 'Not Found' } });
const isResponse = (value: unknown): value is SandboxResponse =>
  typeof value === 'object' && value !== null && 'status' in value;

/** `created_at_min=2026-03-01T00:00:00-05:00` as epoch ms, or Shopify's 400. */
function instantParam(filters: Record<string, string>, name: string): number | undefined | SandboxResponse {
  const text = filters[name];
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : invalid(name, 'must be a valid ISO 8601 date-time');
}

/** `ids=1,2,3` as a set, or Shopify's 400. */
function idsParam(filters: Record<string, string>): Set<number> | undefined | SandboxResponse {
  const text = filters['ids'];
  if (text === undefined) return undefined;
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^\d{1,20}$/.test(p)))
    return invalid('ids', 'must be a comma-separated list of ids');
  return new Set(parts.map(Number));
}

function statusParam(value: string | undefined | null): string | SandboxResponse {
  const status = value ?? 'open';
  return ORDER_STATUSES.has(status) ? status : invalid('status', 'is not included in the list');
}

export function createShopifySandbox(options: ShopifySandboxOptions): PlatformSandbox {
  const { world } = options;
  const app = new ShopifyAppSettings(options.app);
  // The sandbox's "now" is the end of the world's anchor day; without `read_all_orders` Shopify
  // answers only orders created in the 60 days before now.
  const nowMs = Date.parse(`${world.options.anchorDate}T23:59:59.999Z`);
  const visible = (order: Order) => app.canSee(order.createdAt, nowMs);

  /** Every answer names the version that served it; a deprecated one also says why. */
  function versionHeaders(version: string | undefined): Record<string, string> {
    if (!version || !VERSION.test(version)) return {};
    const reason = app.current.deprecatedVersions[version];
    return {
      'x-shopify-api-version': version,
      ...(reason ? { 'x-shopify-api-deprecated-reason': reason } : {}),
    };
  }
  const versionHeader = (path: string) => versionHeaders(API_PREFIX.exec(path)?.[1]);
  const shopifyCustomerJson = (customer: Customer) => app.redactCustomer(customerJson(world, customer));
  const shopifyOrderJson = (order: Order) => app.redactOrder(orderJson(world, order));
  const shopDomain = options.shopDomain ?? 'demo-outdoor-co.myshopify.com';
  const leakPerSecond = options.leakPerSecond ?? 2;
  const bucket = new LeakyBucket(options.bucketSize ?? 40, leakPerSecond);
  // Rebuilt after the world changes: a placed order, and a buyer new to the shop, show up at once.
  const shopCustomers = derived(world, () => world.customers.filter((c) => c.shop !== undefined));
  const ordersById = derived(world, () => new Map(world.orders.map((o) => [o.id, o])));

  function hasStatus(order: Order, status: string): boolean {
    // The world has no cancelled orders; fulfilled orders are archived (closed) as Shopify does by default.
    if (status === 'any') return true;
    if (status === 'cancelled') return false;
    const closed = closedAt(order, world) !== null;
    return status === 'closed' ? closed : !closed;
  }

  const orderListing: ListingSpec<Order> = {
    resource: 'orders',
    path: '/orders.json',
    filterNames: ['status', 'ids', 'created_at_min', 'created_at_max'],
    select(filters) {
      const status = statusParam(filters['status']);
      if (isResponse(status)) return status;
      const ids = idsParam(filters);
      if (isResponse(ids)) return ids;
      const min = instantParam(filters, 'created_at_min');
      if (isResponse(min)) return min;
      const max = instantParam(filters, 'created_at_max');
      if (isResponse(max)) return max;
      return world.orders.filter((order) => {
        const created = shopInstant(order.createdAt);
        return (
          visible(order) &&
          hasStatus(order, status) &&
          (ids === undefined || ids.has(order.id)) &&
          (min === undefined || created >= min) &&
          (max === undefined || created <= max)
        );
      });
    },
  };

  const customerListing: ListingSpec<Customer> = {
    resource: 'customers',
    path: '/customers.json',
    filterNames: ['ids', 'updated_at_min'],
    select(filters) {
      const ids = idsParam(filters);
      if (isResponse(ids)) return ids;
      const min = instantParam(filters, 'updated_at_min');
      if (isResponse(min)) return min;
      return shopCustomers().filter(
        (c) =>
          (ids === undefined || ids.has(c.shop?.id ?? -1)) &&
          (min === undefined || shopInstant(c.shop?.updatedAt ?? 0) >= min),
      );
    },
  };

  const customerSearch: ListingSpec<Customer> = {
    resource: 'customer_search',
    path: '/customers/search.json',
    filterNames: ['query'],
    select: (filters) => searchCustomers(shopCustomers(), filters['query'] ?? ''),
  };

  /** A listing answered as `{ rootKey: [...] }` with its `Link` header. */
  function list<T>(
    request: SandboxRequest,
    version: string,
    spec: ListingSpec<T>,
    rootKey: string,
    toJson: (item: T) => Json,
  ): SandboxResponse {
    const page = paginate(request, spec, `https://${shopDomain}/admin/api/${version}`);
    if (isResponse(page)) return page;
    const fields = fieldsParam(request);
    return {
      status: 200,
      ...(page.link ? { headers: { link: page.link } } : {}),
      json: { [rootKey]: page.items.map((item) => pickFields(toJson(item), fields)) },
    };
  }

  const customerById = (id: string | undefined) =>
    id && /^\d{1,20}$/.test(id) ? world.byShopId.get(Number(id)) : undefined;
  const toCustomer = shopifyCustomerJson;
  const toOrder = shopifyOrderJson;

  function route(path: string, handle: (request: SandboxRequest, version: string) => SandboxResponse): Route {
    return {
      method: 'GET',
      path: `/admin/api/{version}${path}`,
      handle(request) {
        const version = request.params['version'] ?? '';
        if (!VERSION.test(version)) return notFound();
        const response = handle(request, version);
        return { ...response, headers: { ...response.headers, ...versionHeaders(version) } };
      },
    };
  }

  const routes: Route[] = [
    route('/customers.json', (request, version) =>
      list(request, version, customerListing, 'customers', toCustomer),
    ),
    // Shopify's count also takes date filters; the connector only asks how big the whole shop is.
    route('/customers/count.json', () => ({ status: 200, json: { count: shopCustomers().length } })),
    route('/customers/search.json', (request, version) =>
      list(request, version, customerSearch, 'customers', toCustomer),
    ),
    route('/customers/{id}.json', (request) => {
      const customer = customerById(request.params['id']);
      if (!customer) return notFound();
      return { status: 200, json: { customer: pickFields(toCustomer(customer), fieldsParam(request)) } };
    }),
    route('/customers/{id}/orders.json', (request) => {
      const customer = customerById(request.params['id']);
      if (!customer) return notFound();
      const limit = limitParam(request);
      if (typeof limit !== 'number') return limit;
      const status = statusParam(request.query.get('status'));
      if (isResponse(status)) return status;
      const fields = fieldsParam(request);
      const newestFirst = [...ordersOf(world, customer)]
        .reverse()
        .filter((o) => visible(o) && hasStatus(o, status));
      return {
        status: 200,
        json: { orders: newestFirst.slice(0, limit).map((o) => pickFields(toOrder(o), fields)) },
      };
    }),
    route('/orders.json', (request, version) => list(request, version, orderListing, 'orders', toOrder)),
    route('/orders/{id}.json', (request) => {
      const id = request.params['id'] ?? '';
      const order = /^\d{1,20}$/.test(id) ? ordersById().get(Number(id)) : undefined;
      if (!order || !visible(order)) return notFound();
      return { status: 200, json: { order: pickFields(toOrder(order), fieldsParam(request)) } };
    }),
    route('/shop.json', (request) => ({
      status: 200,
      json: { shop: pickFields(shopJson(shopDomain), fieldsParam(request)) },
    })),
  ];

  // Outside the versioned API: which scopes the token was granted.
  routes.push({
    method: 'GET',
    path: '/admin/oauth/access_scopes.json',
    handle: () => ({
      status: 200,
      json: { access_scopes: app.current.scopes.map((handle) => ({ handle })) },
    }),
  });

  return {
    platform: 'shopify',
    routes,
    adminRoutes: shopifyAppRoutes(app),
    authenticate(request) {
      if (request.headers['x-shopify-access-token'] === options.accessToken) return undefined;
      return { status: 401, headers: versionHeader(request.path), json: { errors: INVALID_TOKEN } };
    },
    admit(request): Admission {
      const taken = bucket.add();
      const headers = {
        ...versionHeader(request.path),
        'x-shopify-shop-api-call-limit': `${taken.level}/${bucket.capacity}`,
      };
      if (!taken.ok) return { reject: this.rateLimitedResponse(RETRY_AFTER_SECONDS), headers };
      return { headers };
    },
    errorResponse(status, message) {
      if (status === 404) return notFound();
      // Shopify answers server errors with a plain string and input errors with fields.
      if (status >= 500 || status === 413) return { status, json: { errors: message } };
      return invalid('base', message, status);
    },
    rateLimitedResponse(retryAfterSeconds) {
      return {
        status: 429,
        headers: { 'retry-after': retryAfterSeconds.toFixed(1) },
        json: {
          errors: `Exceeded ${leakPerSecond} calls per second for api client. Reduce request rates to resume uninterrupted service.`,
        },
      };
    },
  };
}
