import { toDateTime } from '../../../lib/dates.js';
import { money, type Money } from '../../../lib/money.js';
import type { ShopifyCustomer, ShopifyOrder } from './schemas.js';
import { parseUtm, type Utm } from '../../../lib/utm.js';

export type { Utm } from '../../../lib/utm.js';

/** A shop customer in the graph's conventions. */
export interface ShopCustomer {
  id: string;
  /** Lower case; null for a customer the shop knows by phone only. */
  email: string | null;
  ordersCount: number;
  /** What the customer spent, as Shopify counts it (refunded and voided orders excluded). */
  lifetimeValue: Money;
  lastOrderId: string | null;
}

export type FinancialStatus =
  'PENDING' | 'AUTHORIZED' | 'PARTIALLY_PAID' | 'PAID' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'VOIDED';

/** An order in the graph's conventions. */
export interface ShopOrder {
  id: string;
  name: string;
  createdAt: string;
  totalPrice: Money;
  financialStatus: FinancialStatus;
  utm: Utm | null;
  /** Null for a guest checkout. */
  customerId: string | null;
}

/** The fields the connector asks for, and only those (least data over the wire). */
export const CUSTOMER_FIELDS = ['id', 'email', 'orders_count', 'total_spent', 'currency', 'last_order_id'];
export const ORDER_FIELDS = [
  'id',
  'name',
  'created_at',
  'total_price',
  'currency',
  'financial_status',
  'landing_site',
  'customer',
];

const STATUSES: Record<ShopifyOrder['financial_status'], FinancialStatus> = {
  pending: 'PENDING',
  authorized: 'AUTHORIZED',
  partially_paid: 'PARTIALLY_PAID',
  paid: 'PAID',
  partially_refunded: 'PARTIALLY_REFUNDED',
  refunded: 'REFUNDED',
  voided: 'VOIDED',
};

export function toShopCustomer(customer: ShopifyCustomer): ShopCustomer {
  return {
    id: String(customer.id),
    email: customer.email && customer.email.trim() !== '' ? customer.email.toLowerCase() : null,
    ordersCount: customer.orders_count,
    lifetimeValue: money(customer.total_spent, customer.currency),
    lastOrderId: customer.last_order_id === null ? null : String(customer.last_order_id),
  };
}

export function toShopOrder(order: ShopifyOrder): ShopOrder {
  return {
    id: String(order.id),
    name: order.name,
    createdAt: toDateTime(order.created_at),
    totalPrice: money(order.total_price, order.currency),
    financialStatus: STATUSES[order.financial_status],
    utm: parseUtm(order.landing_site),
    customerId: order.customer ? String(order.customer.id) : null,
  };
}
