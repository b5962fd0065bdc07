/**
 * The SDLs of the four benchmark subgraphs, as in The Guild's federation benchmark: accounts (users),
 * products (topProducts), inventory (inStock, shippingEstimate via `@requires(fields: "price weight")`),
 * reviews (reviews of users and products; `author` provides `username`).
 *
 * `secured` adds permissions with `@requiresScopes` on every type and on the sensitive fields,
 * which our gateway enforces before planning (a field declared nowhere is readable by nobody): the variant our gateway serves. The baseline and the peer serve the plain variant, as in
 * the reference (Apollo Gateway refuses a supergraph linking requiresScopes `for: SECURITY`). The
 * subgraphs themselves serve the plain variant: they are the same processes for every gateway.
 */

export const BENCH_SUBGRAPHS = ['accounts', 'inventory', 'products', 'reviews'] as const;
export type BenchSubgraph = (typeof BENCH_SUBGRAPHS)[number];

/** What the secured variant requires; the benchmark client holds exactly these scopes. */
export const BENCH_SCOPES = ['crm:read', 'pii:read', 'commerce:read'] as const;

function header(secured: boolean, imports: readonly string[]): string {
  const all = secured ? [...imports, '@requiresScopes'] : imports;
  return `extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: [${all.map((i) => `"${i}"`).join(', ')}])\n`;
}

function requires(secured: boolean, scope: (typeof BENCH_SCOPES)[number]): string {
  return secured ? ` @requiresScopes(scopes: [["${scope}"]])` : '';
}

export function subgraphSdl(name: BenchSubgraph, secured = false): string {
  const s = (scope: (typeof BENCH_SCOPES)[number]) => requires(secured, scope);
  switch (name) {
    case 'accounts':
      return `${header(secured, ['@key', '@shareable'])}
type Query {
  me: User${s('crm:read')}
  user(id: ID!): User${s('crm:read')}
  users: [User]${s('crm:read')}
}

type User @key(fields: "id")${s('crm:read')} {
  id: ID!
  name: String${s('pii:read')}
  username: String @shareable${s('pii:read')}
  birthday: Int${s('pii:read')}
}
`;
    case 'products':
      return `${header(secured, ['@key'])}
type Query {
  topProducts(first: Int = 5): [Product]${s('commerce:read')}
}

type Product @key(fields: "upc")${s('commerce:read')} {
  upc: String!
  name: String
  price: Int${s('commerce:read')}
  weight: Int
}
`;
    case 'inventory':
      return `${header(secured, ['@key', '@external', '@requires'])}
type Product @key(fields: "upc")${s('commerce:read')} {
  upc: String!
  weight: Int @external
  price: Int @external
  inStock: Boolean
  shippingEstimate: Int @requires(fields: "price weight")${s('commerce:read')}
}
`;
    case 'reviews':
      return `${header(secured, ['@key', '@external', '@provides'])}
type Review @key(fields: "id")${s('crm:read')} {
  id: ID!
  body: String
  product: Product
  author: User @provides(fields: "username")
}

type User @key(fields: "id")${s('crm:read')} {
  id: ID!
  username: String @external
  reviews: [Review]
}

type Product @key(fields: "upc")${s('commerce:read')} {
  upc: String!
  reviews: [Review]
}
`;
  }
}
