import { z } from 'zod';
import type { Route } from '../../../sandboxes/kit/types.js';

/**
 * What the shop granted the app, as Shopify enforces it:
 * - scopes: without `read_all_orders`, orders created more than 60 days ago are invisible
 *   (listings leave them out, a look-up by id is 404), while a customer's `orders_count`,
 *   `total_spent` and `last_order_id` still count them;
 * - protected customer data: an app without level 2 access gets a customer's name, email, phone
 *   and addresses as null (level 1 still sees the customer and their orders);
 * - deprecated API versions: answers under such a version carry `X-Shopify-API-Deprecated-Reason`.
 */

const DAY_MS = 86_400_000;
/** Orders Shopify shows to an app without `read_all_orders`. */
export const RECENT_ORDER_DAYS = 60;

export const shopifyAppSchema = z
  .object({
    scopes: z
      .array(z.string().regex(/^(read|write|unauthenticated_read)_[a-z_]+$/))
      .default(['read_customers', 'read_orders', 'read_all_orders']),
    protectedCustomerData: z.enum(['level1', 'level2']).default('level2'),
    /** API version (`2025-07`) → the reason Shopify gives for flagging it. */
    deprecatedVersions: z.record(z.string().regex(/^\d{4}-\d{2}$/), z.string().min(1).max(500)).default({}),
  })
  .strict();

export type ShopifyApp = z.output<typeof shopifyAppSchema>;
export type ShopifyAppInput = z.input<typeof shopifyAppSchema>;

type Json = Record<string, unknown>;

/** Level 2 protected customer data: what an app with level 1 only gets as null. */
const PROTECTED_CUSTOMER_FIELDS = [
  'email',
  'first_name',
  'last_name',
  'phone',
  'default_address',
  'addresses',
];
const PROTECTED_ORDER_FIELDS = ['email', 'phone', 'shipping_address', 'billing_address'];

function redact(resource: Json, fields: readonly string[]): Json {
  const out = { ...resource };
  for (const field of fields) if (field in out) out[field] = null;
  return out;
}

export class ShopifyAppSettings {
  private app: ShopifyApp;

  constructor(input: ShopifyAppInput = {}) {
    this.app = shopifyAppSchema.parse(input);
  }

  get current(): ShopifyApp {
    return this.app;
  }

  set(input: ShopifyAppInput): ShopifyApp {
    this.app = shopifyAppSchema.parse(input);
    return this.app;
  }

  /** Whether an order created at `createdAtMs` is visible to the app at `nowMs`. */
  canSee(createdAtMs: number, nowMs: number): boolean {
    return this.app.scopes.includes('read_all_orders') || createdAtMs >= nowMs - RECENT_ORDER_DAYS * DAY_MS;
  }

  redactCustomer(customer: Json): Json {
    return this.app.protectedCustomerData === 'level2'
      ? customer
      : redact(customer, PROTECTED_CUSTOMER_FIELDS);
  }

  redactOrder(order: Json): Json {
    if (this.app.protectedCustomerData === 'level2') return order;
    const out = redact(order, PROTECTED_ORDER_FIELDS);
    if (out['customer'] && typeof out['customer'] === 'object')
      out['customer'] = redact(out['customer'] as Json, PROTECTED_CUSTOMER_FIELDS);
    return out;
  }
}

/** `GET`/`PUT /__sandbox/shopify/app`: read or replace what the app was granted. */
export function shopifyAppRoutes(app: ShopifyAppSettings): Route[] {
  return [
    { method: 'GET', path: '/__sandbox/shopify/app', handle: () => ({ status: 200, json: app.current }) },
    {
      method: 'PUT',
      path: '/__sandbox/shopify/app',
      handle(request) {
        const parsed = shopifyAppSchema.safeParse(request.json ?? {});
        if (!parsed.success) {
          return {
            status: 400,
            json: {
              code: 'INVALID_APP_SETTINGS',
              error: 'invalid Shopify app settings',
              issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
            },
          };
        }
        return { status: 200, json: app.set(parsed.data) };
      },
    },
  ];
}
