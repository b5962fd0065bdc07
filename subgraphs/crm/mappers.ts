import type { CrmCustomer } from '../../platforms/hubspot/client/records.js';

/** What the `CustomerList` resolvers receive: a list with the time this customer joined it. */
export interface CustomerListModel {
  id: string;
  name: string;
  addedAt: string | null;
}

export interface CustomerConnectionModel {
  edges: { cursor: string; node: CrmCustomer }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
