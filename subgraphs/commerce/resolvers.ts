import { z } from 'zod';
import type { ShopCustomer, ShopOrder } from '../../platforms/shopify/client/records.js';
import { isCalendarDate } from '../../lib/dates.js';
import { badUserInput, UpstreamError } from '../../lib/errors.js';
import { dateRange } from '../../lib/graphql/date-range.js';
import { checkPageSize } from '../../lib/graphql/page-sizes.js';
import { DateScalar, DateTimeScalar, DecimalScalar } from '../../lib/graphql/scalars.js';
import { isDecimal, moneyRatio, sumMoney, type Money } from '../../lib/money.js';
import type { CommerceContext } from './context.js';
import type { CampaignPerformanceModel, CommerceCustomerModel } from './mappers.js';
import type { Resolvers } from './__generated__/resolvers-types.js';

/** Refunded and voided orders brought no revenue, so they do not count for a campaign. */
const NOT_REVENUE: ReadonlySet<ShopOrder['financialStatus']> = new Set(['REFUNDED', 'VOIDED']);

/** The part of a CampaignPerformance representation the gateway builds from the ads subgraph. */
const adsRepresentation = z
  .object({
    spend: z.object({
      amount: z.string().refine(isDecimal, 'expected a decimal string'),
      currency: z.string().min(1),
    }),
  })
  .nullish();

/** Orders of the range that carry the campaign key, and what they brought in, in the shop's currency. */
async function commerceStats(
  campaign: CampaignPerformanceModel,
  context: CommerceContext,
): Promise<{ orders: number; revenue: Money }> {
  // A range older than Shopify shows this app would give a revenue short by the orders it hides.
  const withheld = await context.shopify.ordersWithheld(context.request, campaign.startMs);
  if (withheld) throw withheld;
  const orders = await context.loaders.ordersInRange.load(campaign);
  const counted = orders.filter(
    (order) => order.utm?.campaign === campaign.key && !NOT_REVENUE.has(order.financialStatus),
  );
  const currency = counted[0]?.totalPrice.currency ?? (await context.loaders.shopCurrency());
  const revenue = sumMoney(
    counted.map((order) => order.totalPrice),
    currency,
  );
  if (!revenue) {
    throw new UpstreamError(
      `shopify: the orders of campaign ${campaign.key} are in several currencies, so they cannot be added up`,
      { platform: 'shopify', code: 'UPSTREAM_ERROR', endpoint: 'GET /orders.json' },
    );
  }
  return { orders: counted.length, revenue };
}

/**
 * The shop's record of a customer, null when the shop does not know the email (they never bought).
 * Every field of every customer in the request shares one loader, so this is one batch, not a call
 * per field.
 */
function shopOf(customer: CommerceCustomerModel, context: CommerceContext): Promise<ShopCustomer | null> {
  return customer.email === null
    ? Promise.resolve(null)
    : context.loaders.customerByEmail.load(customer.email);
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Date: DateScalar,
  Decimal: DecimalScalar,
  Customer: {
    // No platform call here: a failed read then nulls only the fields that needed it (see shopOf).
    __resolveReference(reference): CommerceCustomerModel {
      return { email: reference.email?.toLowerCase() ?? null };
    },
    ordersCount: async (customer, _args, context) => (await shopOf(customer, context))?.ordersCount ?? 0,
    lifetimeValue: async (customer, _args, context) =>
      (await shopOf(customer, context))?.lifetimeValue ?? null,
    // Read from the customer's last order id, so many customers cost one call per 250, not one each.
    async lastOrderAt(customer, _args, context) {
      const lastOrderId = (await shopOf(customer, context))?.lastOrderId;
      if (!lastOrderId) return null;
      const createdAt = await context.loaders.orderCreatedAt.load(lastOrderId);
      // The shop says the customer ordered, but the order is not visible: older than the app may see.
      if (createdAt === null) {
        const withheld = await context.shopify.ordersWithheld(context.request);
        if (withheld) throw withheld;
      }
      return createdAt;
    },
    async orders(customer, args, context) {
      checkPageSize('Customer.orders(first:)', args.first);
      const shop = await shopOf(customer, context);
      if (!shop || shop.ordersCount === 0) return [];
      const orders = await context.loaders.ordersOfCustomer.load({ customerId: shop.id, first: args.first });
      // Fewer than asked while the shop counts more: the rest may be older than the app may see.
      if (orders.length < Math.min(args.first, shop.ordersCount)) {
        const withheld = await context.shopify.ordersWithheld(context.request);
        if (withheld) throw withheld;
      }
      return orders;
    },
  },
  CampaignPerformance: {
    __resolveReference(reference): CampaignPerformanceModel {
      for (const [name, value] of [
        ['since', reference.since],
        ['until', reference.until],
      ] as const) {
        if (!isCalendarDate(value)) {
          throw badUserInput(`\`${name}\` must be a calendar day written as YYYY-MM-DD.`, name);
        }
      }
      const range = dateRange(reference.since, reference.until);
      const ads = adsRepresentation.safeParse('ads' in reference ? reference.ads : undefined);
      if (!ads.success) {
        throw badUserInput('`ads.spend` must be an amount as a decimal string and a currency.', 'ads');
      }
      return { key: reference.key, ...range, ads: ads.data ?? null };
    },
    commerce: (campaign, _args, context) => commerceStats(campaign, context),
    async roas(campaign, _args, context) {
      if (!campaign.ads) return null;
      const { revenue } = await commerceStats(campaign, context);
      return moneyRatio(revenue, campaign.ads.spend);
    },
  },
};
