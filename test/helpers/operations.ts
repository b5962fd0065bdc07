import { fileURLToPath } from 'node:url';
import { readExampleOperations } from '../../lib/graphql/example-operations.js';

/**
 * The three contract operations, exactly as users write them (issue: the federated marketing graph).
 * Their one copy is docs/operations, where users read them and a test validates and runs them.
 */
const EXAMPLES = readExampleOperations(fileURLToPath(new URL('../../docs/operations', import.meta.url)));

function example(name: string): string {
  const found = EXAMPLES.find((operation) => operation.name === name);
  if (!found) throw new Error(`docs/operations has no operation named ${name}`);
  return found.source;
}

export const PROFILE = example('Profile');
export const DASHBOARD = example('Dashboard');
export const CUSTOMERS = example('Customers');

export interface ProfileData {
  customer: null | {
    id: string;
    email: string;
    firstName: string | null;
    lastName: string | null;
    lifecycleStage: string | null;
    lists: { id: string; name: string }[];
    emailSubscription: { status: string; memberRating: number } | null;
    emailEngagement: { avgOpenRate: number; avgClickRate: number } | null;
    ordersCount: number;
    lifetimeValue: { amount: string; currency: string } | null;
    lastOrderAt: string | null;
    /** Null only when the shop could not be reached. */
    orders:
      | {
          id: string;
          createdAt: string;
          totalPrice: { amount: string; currency: string };
          utm: { source: string | null; medium: string | null; campaign: string | null } | null;
        }[]
      | null;
  };
}

export interface DashboardRow {
  key: string;
  since: string;
  until: string;
  ads: {
    impressions: number;
    clicks: number;
    conversions: number;
    spend: { amount: string; currency: string };
  };
  email: {
    emailsSent: number;
    uniqueOpens: number;
    uniqueClicks: number;
    openRate: number;
    clickRate: number;
  };
  commerce: { orders: number; revenue: { amount: string; currency: string } };
  roas: number | null;
}

export interface CustomersData {
  customers: {
    edges: {
      cursor: string;
      node: {
        id: string;
        email: string;
        lifecycleStage: string | null;
        emailSubscription: { status: string } | null;
        ordersCount: number;
        lifetimeValue: { amount: string; currency: string } | null;
      };
    }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
