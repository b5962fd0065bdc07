import type { ShopCustomer } from '../../connectors/shopify/records.js';
import type { Money } from '../../lib/money.js';

/** What the `Customer` resolvers receive: the email the graph asked about and the shop's record, if any. */
export interface CommerceCustomerModel {
  email: string | null;
  /** Null when the shop does not know the email: the customer never bought. */
  shop: ShopCustomer | null;
}

/** What the `CampaignPerformance` resolvers receive: the checked key and range, and the ads figures the gateway supplied. */
export interface CampaignPerformanceModel {
  key: string;
  since: string;
  until: string;
  /** The range's first and last instants, UTC. */
  startMs: number;
  endMs: number;
  /** From the ads subgraph through `@requires`; absent when the query did not ask for `roas`. */
  ads: { spend: Money } | null;
}
