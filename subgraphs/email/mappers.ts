/**
 * What the `Customer` resolvers receive: the key the gateway sent. Each field reads the audience
 * member through the request's loader, so an email platform that cannot be reached fails each email
 * field at its own path and the entity stays.
 */
export interface CustomerModel {
  email: string | null;
}

/** A `CampaignPerformance` reference, its range checked; `email` is resolved from it. */
export interface CampaignPerformanceModel {
  key: string;
  since: string;
  until: string;
  startMs: number;
  endMs: number;
}
