import type { EmailMember } from '../../connectors/mailchimp/records.js';

/** What the `Customer` resolvers receive: the key the gateway sent and the audience member, if any. */
export interface CustomerModel {
  email: string | null;
  /** Null when the address is not in the audience (or there is no address). */
  member: EmailMember | null;
}

/** A `CampaignPerformance` reference, its range checked; `email` is resolved from it. */
export interface CampaignPerformanceModel {
  key: string;
  since: string;
  until: string;
  startMs: number;
  endMs: number;
}
