import { addDays } from '../../lib/dates.js';
import { campaignLink } from './links.js';
import { Random } from './random.js';
import { CAMPAIGN_KEYS, EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, LIST_NAMES, PRODUCTS } from './names.js';

/**
 * The company the sandboxes pretend to serve: one set of customers, campaigns and orders from which
 * each platform sandbox projects its own API. Every figure is derived from the seed, so two
 * processes started with the same options serve identical data.
 */

export interface WorldOptions {
  seed: number;
  /** Number of customers, 1..100,000. */
  customers: number;
  /** Last day of the generated activity window, YYYY-MM-DD (UTC). */
  anchorDate: string;
}

/** Days of daily activity (ads, emails, attributed orders) ending at the anchor date. */
export const WINDOW_DAYS = 90;
/** Orders go back further than campaigns so lifetime values look like a real shop's. */
export const ORDER_HISTORY_DAYS = 180;
export const SHOP_CURRENCY = 'USD';
export const AD_ACCOUNT_CURRENCY = 'USD';

export interface Person {
  index: number;
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
}

export interface CrmContact {
  id: string;
  lifecycleStage:
    | 'subscriber'
    | 'lead'
    | 'marketingqualifiedlead'
    | 'salesqualifiedlead'
    | 'opportunity'
    | 'customer'
    | 'evangelist'
    | 'other';
  createdAt: number;
  updatedAt: number;
  lists: { listId: string; addedAt: number }[];
  /** `hs_lead_status`; unset until a change sets it (see changes.ts). */
  leadStatus?: string;
  /**
   * Properties written through the CRM's API, over the generated ones: custom properties a sync
   * fills (lifetime value, last order date) and the CRM's own copy of a name or address. A value
   * here is what the CRM answers; the person's other systems keep theirs.
   */
  properties?: Record<string, string>;
}

export interface AudienceMember {
  /** `archived` only once a client archived the member (the generated audience has none). */
  status: 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived';
  memberRating: number;
  signedUpAt: number;
  optedInAt: number | null;
  lastChangedAt: number;
  vip: boolean;
  avgOpenRate: number;
  avgClickRate: number;
  uniqueEmailId: string;
  webId: number;
  contactId: string;
  /** Tags set through the API, in the order added; absent until one is (`vip` shows as `VIP`). */
  tags?: string[];
  /** Merge fields written through the API, over the person's name. */
  mergeFields?: Record<string, string>;
}

export interface ShopCustomer {
  id: number;
  createdAt: number;
  updatedAt: number;
  state: 'enabled' | 'disabled' | 'invited';
  tags: string;
  marketingConsent: 'subscribed' | 'not_subscribed' | 'unsubscribed';
}

export interface Customer {
  person: Person;
  crm: CrmContact;
  /** Absent for the customers who never joined the email audience. */
  audience?: AudienceMember;
  /** Absent for the customers who never bought in the shop. */
  shop?: ShopCustomer;
}

export type FinancialStatus =
  'pending' | 'authorized' | 'paid' | 'partially_refunded' | 'refunded' | 'voided';

export interface Order {
  id: number;
  number: number;
  customerIndex: number;
  createdAt: number;
  lineItems: { sku: string; title: string; quantity: number; priceCents: number }[];
  subtotalCents: number;
  taxCents: number;
  totalCents: number;
  financialStatus: FinancialStatus;
  /** Landing path and query, with UTM parameters when a campaign brought the buyer. */
  landingSite: string;
  referringSite: string;
}

export interface Campaign {
  key: string;
  /** First and last active day, inclusive. */
  startDate: string;
  endDate: string;
}

export interface AdCampaign {
  id: string;
  name: string;
  /** Null for campaigns whose name carries no key (always-on brand work). */
  key: string | null;
  startDate: string;
  endDate: string;
  /** One row per active day. */
  daily: { date: string; impressions: number; clicks: number; spendCents: number; purchases: number }[];
}

export interface EmailCampaign {
  id: string;
  webId: number;
  title: string;
  subjectLine: string;
  /** The `utm_campaign` value Mailchimp's link tracking adds (`tracking.google_analytics`). */
  key: string | null;
  sentAt: number;
  emailsSent: number;
  uniqueOpens: number;
  opensTotal: number;
  uniqueClicks: number;
  clicksTotal: number;
  unsubscribed: number;
  hardBounces: number;
  softBounces: number;
}

export interface CrmList {
  id: string;
  name: string;
  createdAt: number;
}

export interface World {
  options: WorldOptions;
  /**
   * Counts the changes applied since generation (changes.ts). Views a sandbox derives from the
   * world (listings, indexes) are rebuilt when it moves, so every change shows up in every API.
   */
  revision: number;
  windowStart: string;
  customers: Customer[];
  lists: CrmList[];
  campaigns: Campaign[];
  adCampaigns: AdCampaign[];
  emailCampaigns: EmailCampaign[];
  /**
   * Sorted by creation time; seeded ids and numbers increase with it, and an order placed later
   * (changes.ts) takes an id and a number above every one before it.
   */
  orders: Order[];
  byEmail: Map<string, Customer>;
  byCrmId: Map<string, Customer>;
  byShopId: Map<number, Customer>;
  ordersByCustomer: Map<number, Order[]>;
}

const DAY_MS = 86_400_000;
const dayStart = (date: string) => Date.parse(`${date}T00:00:00Z`);

function makeCustomer(seed: number, index: number, anchorMs: number, lists: CrmList[]): Customer {
  const r = Random.for(seed, 'customer', index);
  const firstName = r.pick(FIRST_NAMES);
  const lastName = r.pick(LAST_NAMES);
  const email = `${firstName}.${lastName}.${index + 1}@${r.pick(EMAIL_DOMAINS)}`.toLowerCase();
  const phone = `+1 ${r.pick(['212', '415', '312', '617', '206'])} 555 01${String(r.int(0, 99)).padStart(2, '0')}`;
  const createdAt = anchorMs - r.int(1, 3 * 365) * DAY_MS - r.int(0, DAY_MS - 1);
  const updatedAt = Math.min(anchorMs, createdAt + r.int(0, 400) * DAY_MS);
  const lifecycleStage = r.weighted<CrmContact['lifecycleStage']>([
    ['subscriber', 20],
    ['lead', 25],
    ['marketingqualifiedlead', 10],
    ['salesqualifiedlead', 5],
    ['opportunity', 4],
    ['customer', 30],
    ['evangelist', 4],
    ['other', 2],
  ]);
  const memberships: CrmContact['lists'] = [];
  for (const list of lists) {
    if (r.chance(0.18))
      memberships.push({ listId: list.id, addedAt: Math.max(createdAt, anchorMs - r.int(0, 500) * DAY_MS) });
  }
  const customer: Customer = {
    person: { index, email, firstName, lastName, phone },
    crm: { id: String(10_000 + index * 17), lifecycleStage, createdAt, updatedAt, lists: memberships },
  };
  if (r.chance(0.85)) {
    const status = r.weighted<Exclude<AudienceMember['status'], 'archived'>>([
      ['subscribed', 88],
      ['unsubscribed', 6],
      ['cleaned', 3],
      ['pending', 2],
      ['transactional', 1],
    ]);
    const signedUpAt = Math.min(anchorMs, createdAt + r.int(0, 30) * DAY_MS);
    const avgOpenRate = Math.round(Math.min(1, r.around(0.32, 0.5)) * 10000) / 10000;
    customer.audience = {
      status,
      memberRating: r.weighted([
        [1, 10],
        [2, 30],
        [3, 30],
        [4, 20],
        [5, 10],
      ]),
      signedUpAt,
      optedInAt: status === 'pending' ? null : signedUpAt + r.int(0, 3_600_000),
      lastChangedAt: Math.min(anchorMs, signedUpAt + r.int(0, 300) * DAY_MS),
      vip: r.chance(0.05),
      avgOpenRate,
      avgClickRate: Math.round(avgOpenRate * r.around(0.2, 0.4) * 10000) / 10000,
      uniqueEmailId: r.hex(10),
      webId: 100_000 + index,
      contactId: r.hex(32),
    };
  }
  return customer;
}

function makeOrdersFor(
  seed: number,
  customer: Customer,
  anchorMs: number,
  campaigns: Campaign[],
): Omit<Order, 'id' | 'number'>[] {
  const r = Random.for(seed, 'orders', customer.person.index);
  if (!r.chance(0.5)) return [];
  let count = 1;
  while (count < 8 && r.chance(0.45)) count++;
  const orders: Omit<Order, 'id' | 'number'>[] = [];
  for (let i = 0; i < count; i++) {
    const createdAt = anchorMs - r.int(0, ORDER_HISTORY_DAYS - 1) * DAY_MS - r.int(0, DAY_MS - 1);
    const day = new Date(createdAt).toISOString().slice(0, 10);
    const { lineItems, subtotalCents, taxCents } = randomBasket(r);
    const active = campaigns.filter((c) => c.startDate <= day && day <= c.endDate);
    const product = lineItems[0]?.sku ?? 'catalog';
    let landingSite = `/products/${product}`;
    let referringSite = '';
    if (active.length > 0 && r.chance(0.6)) {
      const link = campaignLink(r, r.pick(active).key);
      landingSite += link.query;
      referringSite = link.referrer;
    } else if (r.chance(0.3)) {
      landingSite += '?utm_source=google&utm_medium=organic';
      referringSite = 'https://www.google.com/';
    }
    orders.push({
      customerIndex: customer.person.index,
      createdAt,
      lineItems,
      subtotalCents,
      taxCents,
      totalCents: subtotalCents + taxCents,
      financialStatus: r.weighted<FinancialStatus>([
        ['paid', 90],
        ['pending', 3],
        ['refunded', 3],
        ['partially_refunded', 2],
        ['authorized', 2],
      ]),
      landingSite,
      referringSite,
    });
  }
  const first = Math.min(...orders.map((o) => o.createdAt));
  customer.shop = {
    id: 7_000_000_000 + customer.person.index * 131,
    createdAt: first - r.int(0, 30) * DAY_MS - r.int(1, 3_600_000),
    updatedAt: Math.max(...orders.map((o) => o.createdAt)),
    state: r.weighted([
      ['enabled', 80],
      ['disabled', 15],
      ['invited', 5],
    ]),
    tags: r.chance(0.1) ? 'vip' : '',
    marketingConsent: customer.audience?.status === 'subscribed' ? 'subscribed' : 'not_subscribed',
  };
  return orders;
}

function makeCampaigns(seed: number, windowStart: string): Campaign[] {
  return CAMPAIGN_KEYS.map((key, i) => {
    const r = Random.for(seed, 'campaign', i);
    // Staggered starts so every stretch of the window has several live campaigns.
    const spacing = (WINDOW_DAYS - 20) / (CAMPAIGN_KEYS.length - 1);
    const start = Math.max(0, Math.round(i * spacing) + r.int(-3, 3));
    const end = Math.min(WINDOW_DAYS - 1, start + r.int(20, 45));
    return { key, startDate: addDays(windowStart, start), endDate: addDays(windowStart, end) };
  });
}

function makeAdCampaign(
  seed: number,
  id: string,
  name: string,
  key: string | null,
  startDate: string,
  endDate: string,
): AdCampaign {
  const r = Random.for(seed, 'ad', id);
  const budget = r.around(150, 0.5);
  const cpm = r.around(9, 0.3);
  const ctr = Math.min(0.05, r.around(0.012, 0.3));
  const cvr = Math.min(0.1, r.around(0.025, 0.4));
  const daily: AdCampaign['daily'] = [];
  for (let date = startDate; date <= endDate; date = addDays(date, 1)) {
    const spendCents = Math.round(budget * (0.8 + r.next() * 0.2) * 100);
    const impressions = Math.round((spendCents / 100 / cpm) * 1000);
    const clicks = Math.round(impressions * ctr * (0.8 + r.next() * 0.4));
    daily.push({
      date,
      impressions,
      clicks,
      spendCents,
      purchases: Math.round(clicks * cvr * (0.7 + r.next() * 0.6)),
    });
  }
  return { id, name, key, startDate, endDate, daily };
}

function makeEmailCampaigns(seed: number, campaigns: Campaign[], subscribed: number): EmailCampaign[] {
  const out: EmailCampaign[] = [];
  campaigns.forEach((campaign, i) => {
    const r = Random.for(seed, 'email-campaign', i);
    const sends = r.int(1, 3);
    const span = Math.max(1, (dayStart(campaign.endDate) - dayStart(campaign.startDate)) / DAY_MS);
    for (let s = 0; s < sends; s++) {
      // Spread over the campaign with the last send on its final day, as a closing reminder.
      const day = addDays(campaign.startDate, Math.floor((span * (s + 1)) / sends));
      const emailsSent = Math.max(1, Math.round(subscribed * (0.9 + r.next() * 0.1)));
      const uniqueOpens = Math.round(emailsSent * Math.min(0.8, r.around(0.32, 0.25)));
      const uniqueClicks = Math.round(uniqueOpens * Math.min(0.5, r.around(0.12, 0.3)));
      out.push({
        id: r.hex(10),
        webId: 500_000 + out.length,
        title: `${campaign.key} #${s + 1}`,
        subjectLine: `${campaign.key.replace(/-/g, ' ')}: ${r.pick(['new arrivals', 'last chance', 'members first', 'just for you'])}`,
        key: campaign.key,
        sentAt: dayStart(day) + r.int(8, 18) * 3_600_000,
        emailsSent,
        uniqueOpens,
        opensTotal: Math.round(uniqueOpens * (1.2 + r.next())),
        uniqueClicks,
        clicksTotal: Math.round(uniqueClicks * (1.1 + r.next())),
        unsubscribed: Math.round(emailsSent * 0.002 * r.next()),
        hardBounces: Math.round(emailsSent * 0.003 * r.next()),
        softBounces: Math.round(emailsSent * 0.006 * r.next()),
      });
    }
  });
  return out.sort((a, b) => a.sentAt - b.sentAt);
}

/** One to three products at shop prices, with the 8% tax the demo shop charges. */
export function randomBasket(r: Random): Pick<Order, 'lineItems' | 'subtotalCents' | 'taxCents'> {
  const lineItems = Array.from({ length: r.int(1, 3) }, () => {
    const sku = r.pick(PRODUCTS);
    return {
      sku,
      title: sku.replace(/-/g, ' '),
      quantity: r.int(1, 2),
      priceCents: Math.round(r.around(45, 0.6)) * 100 - r.pick([0, 1, 5]),
    };
  });
  const subtotalCents = lineItems.reduce((sum, item) => sum + item.priceCents * item.quantity, 0);
  return { lineItems, subtotalCents, taxCents: Math.round(subtotalCents * 0.08) };
}

export function generateWorld(options: WorldOptions): World {
  if (!Number.isInteger(options.customers) || options.customers < 1 || options.customers > 100_000) {
    throw new RangeError('customers must be an integer from 1 to 100000');
  }
  const { seed } = options;
  const anchorMs = dayStart(options.anchorDate) + DAY_MS - 1;
  const windowStart = addDays(options.anchorDate, -(WINDOW_DAYS - 1));
  const lists: CrmList[] = LIST_NAMES.map((name, i) => ({
    id: String(101 + i),
    name,
    createdAt: anchorMs - (900 - i * 40) * DAY_MS,
  }));
  const campaigns = makeCampaigns(seed, windowStart);

  const customers: Customer[] = [];
  const pending: Omit<Order, 'id' | 'number'>[] = [];
  for (let index = 0; index < options.customers; index++) {
    const customer = makeCustomer(seed, index, anchorMs, lists);
    pending.push(...makeOrdersFor(seed, customer, anchorMs, campaigns));
    customers.push(customer);
  }
  pending.sort((a, b) => a.createdAt - b.createdAt || a.customerIndex - b.customerIndex);
  const orders: Order[] = pending.map((order, i) => ({
    ...order,
    id: 5_000_000_000 + i * 97,
    number: 1001 + i,
  }));
  const ordersByCustomer = new Map<number, Order[]>();
  for (const order of orders) {
    const list = ordersByCustomer.get(order.customerIndex);
    if (list) list.push(order);
    else ordersByCustomer.set(order.customerIndex, [order]);
  }

  const adCampaigns: AdCampaign[] = [];
  campaigns.forEach((campaign, i) => {
    adCampaigns.push(
      makeAdCampaign(
        seed,
        String(23_850_000_000 + i * 10),
        `${campaign.key} | Prospecting`,
        campaign.key,
        campaign.startDate,
        campaign.endDate,
      ),
    );
    if (i % 2 === 0) {
      const retargetStart =
        addDays(campaign.startDate, 3) <= campaign.endDate
          ? addDays(campaign.startDate, 3)
          : campaign.startDate;
      adCampaigns.push(
        makeAdCampaign(
          seed,
          String(23_850_000_000 + i * 10 + 1),
          `${campaign.key} | Retargeting`,
          campaign.key,
          retargetStart,
          campaign.endDate,
        ),
      );
    }
  });
  adCampaigns.push(
    makeAdCampaign(seed, '23850009999', 'Always-on brand awareness', null, windowStart, options.anchorDate),
  );

  const subscribed = customers.filter((c) => c.audience?.status === 'subscribed').length;
  return {
    options,
    revision: 0,
    windowStart,
    customers,
    lists,
    campaigns,
    adCampaigns,
    emailCampaigns: makeEmailCampaigns(seed, campaigns, subscribed),
    orders,
    byEmail: new Map(customers.map((c) => [c.person.email, c])),
    byCrmId: new Map(customers.map((c) => [c.crm.id, c])),
    byShopId: new Map(customers.flatMap((c) => (c.shop ? [[c.shop.id, c] as const] : []))),
    ordersByCustomer,
  };
}

/** Sum of the orders that count toward what a customer spent (refunded and voided ones do not). */
export function totalSpentCents(orders: readonly Order[]): number {
  return orders
    .filter(
      (o) =>
        o.financialStatus !== 'refunded' && o.financialStatus !== 'voided' && o.financialStatus !== 'pending',
    )
    .reduce((sum, o) => sum + o.totalCents, 0);
}
