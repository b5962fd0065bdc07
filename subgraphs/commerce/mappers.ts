import type { Money } from '../../lib/money.js';

/**
 * What the `Customer` resolvers receive: the email the graph asked about. Each field reads the
 * shop's record through the request's loader (one batch for every customer of the request), so a
 * shop that cannot be reached fails each commerce field at its own path and the entity stays.
 */
export interface CommerceCustomerModel {
  email: string | null;
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
