/** The three contract operations, exactly as users write them (issue: the federated marketing graph). */
export const PROFILE = /* GraphQL */ `
  query Profile($email: String!) {
    customer(email: $email) {
      id
      email
      firstName
      lastName
      lifecycleStage
      lists {
        id
        name
      }
      emailSubscription {
        status
        memberRating
      }
      emailEngagement {
        avgOpenRate
        avgClickRate
      }
      ordersCount
      lifetimeValue {
        amount
        currency
      }
      lastOrderAt
      orders(first: 3) {
        id
        createdAt
        totalPrice {
          amount
          currency
        }
        utm {
          source
          medium
          campaign
        }
      }
    }
  }
`;

export const DASHBOARD = /* GraphQL */ `
  query Dashboard($since: Date!, $until: Date!) {
    campaignPerformance(since: $since, until: $until) {
      key
      since
      until
      ads {
        impressions
        clicks
        conversions
        spend {
          amount
          currency
        }
      }
      email {
        emailsSent
        uniqueOpens
        uniqueClicks
        openRate
        clickRate
      }
      commerce {
        orders
        revenue {
          amount
          currency
        }
      }
      roas
    }
  }
`;

export const CUSTOMERS = /* GraphQL */ `
  query Customers($first: Int!, $after: String) {
    customers(first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          email
          lifecycleStage
          emailSubscription {
            status
          }
          ordersCount
          lifetimeValue {
            amount
            currency
          }
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`;

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
    orders: {
      id: string;
      createdAt: string;
      totalPrice: { amount: string; currency: string };
      utm: { source: string | null; medium: string | null; campaign: string | null } | null;
    }[];
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
