import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, type GraphQLSchema } from 'graphql';
import { OperationGate } from '../../gateway/auth/operation-gate.js';
import { readDeclarations } from '../../lib/auth/requirements.js';
import { apiSchemaOf } from '../../lib/graphql/api-schema.js';
import { applyFieldPermissions } from '../../subgraphs/kit/permissions.js';

/**
 * One permission table (field x scopes -> allowed) and the two layers that must both give its
 * answer: the gateway's operation gate on the composed supergraph, and graphql-shield inside the
 * subgraph on its own SDL. The SDL uses every way of writing a declaration the layers once read
 * differently: renamed imports (`@scopes`, `@signedIn`), a bare string and a flat list of scopes,
 * type-level requirements (applying to the type's fields and to fields returning it), and a field
 * that declares nothing.
 */

export const TABLE_SDL = /* GraphQL */ `
  extend schema
    @link(
      url: "https://specs.apollo.dev/federation/v2.5"
      import: [
        "@key"
        { name: "@requiresScopes", as: "@scopes" }
        { name: "@authenticated", as: "@signedIn" }
      ]
    )

  type Query {
    "Bare string: crm:read (and Account's own crm:read)."
    account: Account @scopes(scopes: "crm:read")
    "A flat list is an OR: ads:read, or campaigns:read (and Report's own @signedIn)."
    report: Report @scopes(scopes: ["ads:read", "campaigns:read"])
    "Only @signedIn: any identified caller."
    me: Profile @signedIn
    "Declares nothing, and neither does Note: nobody."
    note: Note
  }

  type Account @key(fields: "id") @scopes(scopes: [["crm:read"]]) {
    id: ID!
    email: String @scopes(scopes: [["pii:read"]])
    balance: Money
  }

  "Type-level: applies to its fields and to every field returning it."
  type Money @scopes(scopes: [["commerce:read"]]) {
    amount: String
  }

  type Report @signedIn {
    "Both lists at once: ads:read and campaigns:read."
    spend: Int @scopes(scopes: [["ads:read", "campaigns:read"]])
    title: String
  }

  type Profile @signedIn {
    name: String
  }

  type Note {
    text: String
  }
`;

const resolvers = {
  Query: {
    account: () => ({ id: 'a1' }),
    report: () => ({}),
    me: () => ({}),
    note: () => ({}),
  },
  Account: {
    __resolveReference: (reference: { id: string }) => reference,
    email: () => 'a1@example.com',
    balance: () => ({ amount: '12.00' }),
  },
  Report: { spend: () => 7, title: () => 'weekly' },
  Profile: { name: () => 'me' },
  Note: { text: () => 'hello' },
};

export interface PermissionRow {
  coordinate: string;
  /** The client operation selecting the field. */
  query: string;
  /** Response keys to the field. */
  path: readonly string[];
  scopes: readonly string[];
  allowed: boolean;
}

const FIELDS: {
  coordinate: string;
  query: string;
  path: string[];
  allowedWith: (s: Set<string>) => boolean;
}[] = [
  {
    coordinate: 'Query.account',
    query: '{ account { id } }',
    path: ['account', 'id'],
    allowedWith: (s) => s.has('crm:read'),
  },
  {
    coordinate: 'Account.email',
    query: '{ account { email } }',
    path: ['account', 'email'],
    allowedWith: (s) => s.has('crm:read') && s.has('pii:read'),
  },
  {
    coordinate: 'Account.balance',
    query: '{ account { balance { amount } } }',
    path: ['account', 'balance', 'amount'],
    allowedWith: (s) => s.has('crm:read') && s.has('commerce:read'),
  },
  {
    coordinate: 'Query.report',
    query: '{ report { title } }',
    path: ['report', 'title'],
    allowedWith: (s) => s.has('ads:read') || s.has('campaigns:read'),
  },
  {
    coordinate: 'Report.spend',
    query: '{ report { spend } }',
    path: ['report', 'spend'],
    allowedWith: (s) => s.has('ads:read') && s.has('campaigns:read'),
  },
  { coordinate: 'Profile.name', query: '{ me { name } }', path: ['me', 'name'], allowedWith: () => true },
  { coordinate: 'Note.text', query: '{ note { text } }', path: ['note', 'text'], allowedWith: () => false },
];

const SCOPE_SETS: readonly (readonly string[])[] = [
  [],
  ['crm:read'],
  ['crm:read', 'pii:read'],
  ['crm:read', 'commerce:read'],
  ['pii:read', 'commerce:read'],
  ['ads:read'],
  ['campaigns:read'],
  ['ads:read', 'campaigns:read'],
  ['crm:read', 'pii:read', 'commerce:read', 'ads:read', 'campaigns:read'],
];

/** Every field with every scope set, and whether it must be returned. */
export const PERMISSION_TABLE: readonly PermissionRow[] = FIELDS.flatMap((field) =>
  SCOPE_SETS.map((scopes) => ({
    coordinate: field.coordinate,
    query: field.query,
    path: field.path,
    scopes,
    allowed: field.allowedWith(new Set(scopes)),
  })),
);

/** The two layers, built once from `TABLE_SDL`. */
export interface Layers {
  /** The supergraph Apollo's composition makes of the SDL (the gateway's input). */
  supergraph: string;
  /** Whether the gateway's operation gate lets the row's field through. */
  gateway(row: PermissionRow): boolean;
  /** Whether the subgraph, run with a caller holding the row's scopes, returns the row's field. */
  subgraph(row: PermissionRow): Promise<boolean>;
}

function valueAt(data: unknown, path: readonly string[]): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export function buildLayers(): Layers {
  const typeDefs = parse(TABLE_SDL);
  // Apollo's composition directly: the project's own compose step would refuse `Note.text`.
  const composed = composeServices([{ name: 'table', url: 'http://127.0.0.1:9/graphql', typeDefs }]);
  if (!composed.supergraphSdl)
    throw new Error(`the table SDL does not compose: ${composed.errors?.map((e) => e.message).join('; ')}`);
  const supergraph = composed.supergraphSdl;
  const gate = new OperationGate({
    declarations: readDeclarations(parse(supergraph)),
    mode: 'filter',
    introspectionForAll: false,
  });
  gate.useSchema(apiSchemaOf(supergraph));
  const protectedSchema: GraphQLSchema = applyFieldPermissions(
    'crm',
    buildSubgraphSchema({ typeDefs, resolvers }),
  ).schema;

  return {
    supergraph,
    gateway(row) {
      const identity = { id: 'table', scopes: [...row.scopes].sort(), via: 'api-key' as const };
      const decided = gate.check(identity, row.query, parse(row.query), undefined);
      if ('status' in decided) return false;
      const removed = decided.outcome?.removals ?? [];
      // Denied when the field itself or a field on its path was removed.
      return !removed.some((r) => row.path.slice(0, r.path.length).join('.') === r.path.join('.'));
    },
    async subgraph(row) {
      const result = await execute({
        schema: protectedSchema,
        document: parse(row.query),
        contextValue: { caller: { clientId: 'table', scopes: row.scopes } },
      });
      const value = valueAt(result.data, row.path);
      return value !== null && value !== undefined;
    },
  };
}
