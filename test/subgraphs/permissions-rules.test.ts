import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Caller } from '../../lib/auth/gateway-token.js';
import { badUserInput } from '../../lib/errors.js';
import {
  applyFieldPermissions,
  fieldPermissions,
  permissionDecisions,
} from '../../subgraphs/kit/permissions.js';
import { subgraphMetrics } from '../../subgraphs/kit/metrics.js';

/** A small subgraph with one of each case: scopes on type and field, an OR, @authenticated, keys, nothing. */
const typeDefs = parse(/* GraphQL */ `
  extend schema
    @link(
      url: "https://specs.apollo.dev/federation/v2.5"
      import: ["@key", "@requiresScopes", "@authenticated"]
    )

  type Query {
    accounts(count: Int!): [Account!]!
    note: Note
    health: Status
    failing: Secret
  }

  type Account @key(fields: "id") @key(fields: "email") @requiresScopes(scopes: [["crm:read"]]) {
    id: ID!
    email: String @requiresScopes(scopes: [["pii:read"]])
    either: String @requiresScopes(scopes: [["ads:read", "campaigns:read"], ["email:read"]])
    secret: Secret
    bad: String
  }

  type Secret @authenticated {
    value: String
  }

  type Note {
    text: String
  }

  type Status {
    up: Boolean
  }
`);

interface Account {
  id: string;
}

const resolvers = {
  Query: {
    accounts: (_parent: unknown, args: { count: number }): Account[] =>
      Array.from({ length: args.count }, (_, i) => ({ id: String(i + 1) })),
    note: () => ({ text: 'hello' }),
    health: () => ({ up: true }),
    failing: () => {
      throw new Error('connection string postgres://admin:hunter2@db leaked in a message');
    },
  },
  Account: {
    __resolveReference: (reference: { id: string }): Account => ({ id: reference.id }),
    email: (account: Account) => `person${account.id}@example.com`,
    either: () => 'either',
    secret: () => ({ value: 'v' }),
    bad: () => {
      throw badUserInput('`bad` is always bad.', 'bad');
    },
  },
};

const built = () => buildSubgraphSchema({ typeDefs, resolvers });

function run(schema: GraphQLSchema, query: string, caller: Caller | undefined, variables = {}) {
  const contextValue: Record<string, unknown> = caller ? { caller } : {};
  return graphql({ schema, source: query, variableValues: variables, contextValue }).then((result) => ({
    result,
    contextValue,
  }));
}

const caller = (...scopes: string[]): Caller => ({ clientId: 'test', scopes });

describe('field permissions generated from the SDL', () => {
  const permissions = fieldPermissions(built());
  const of = (coordinate: string) => permissions.get(coordinate);

  it('should require the AND of the parent type, the return type and the field', () => {
    expect(of('Account.either')?.source).toBe('directives');
    expect(of('Query.accounts')?.requirement).toEqual([['crm:read']]);
    // @authenticated adds nothing to a scope list, but counts as a declaration.
    expect(of('Account.secret')?.requirement).toEqual([['crm:read']]);
    expect(of('Secret.value')?.requirement).toEqual([[]]);
  });

  it('should read [[a, b], [c]] as (a and b) or c, distributed over the parent type', () => {
    expect(of('Account.either')?.requirement).toEqual([
      ['ads:read', 'campaigns:read', 'crm:read'],
      ['crm:read', 'email:read'],
    ]);
  });

  it('should make a key field need what it declares, and its type alone only when planned for a join', () => {
    expect(of('Account.email')).toEqual({
      coordinate: 'Account.email',
      source: 'directives',
      requirement: [['crm:read', 'pii:read']],
      whenPlanned: [['crm:read']],
    });
    // A key field declaring nothing of its own needs its type's requirement either way.
    expect(of('Account.id')).toEqual({
      coordinate: 'Account.id',
      source: 'directives',
      requirement: [['crm:read']],
    });
  });

  it("should let any valid token reach Federation's own fields", () => {
    expect(of('Query._entities')).toEqual({
      coordinate: 'Query._entities',
      source: 'federation',
      requirement: [[]],
    });
    expect(of('Query._service')?.source).toBe('federation');
    expect(of('_Service.sdl')?.source).toBe('federation');
  });

  it('should deny fields without a requirement anywhere', () => {
    expect(of('Query.note')).toEqual({ coordinate: 'Query.note', source: 'undeclared', requirement: [] });
    expect(of('Note.text')?.source).toBe('undeclared');
    expect(of('Status.up')?.source).toBe('undeclared');
  });
});

describe('field permissions enforced by graphql-shield', () => {
  const { schema } = applyFieldPermissions('crm', built());

  it('should return a field to a caller with its scopes and FORBIDDEN at its path otherwise', async () => {
    const query = '{ accounts(count: 2) { id email } }';
    const allowed = await run(schema, query, caller('crm:read', 'pii:read'));
    expect(allowed.result).toEqual({
      data: {
        accounts: [
          { id: '1', email: 'person1@example.com' },
          { id: '2', email: 'person2@example.com' },
        ],
      },
    });
    const denied = await run(schema, query, caller('crm:read'));
    expect(denied.result.data).toEqual({
      accounts: [
        { id: '1', email: null },
        { id: '2', email: null },
      ],
    });
    expect(denied.result.errors?.map((e) => [e.path, e.message, e.extensions])).toEqual(
      [0, 1].map((i) => [
        ['accounts', i, 'email'],
        'Not authorized to read Account.email: requires crm:read and pii:read',
        { code: 'FORBIDDEN', requiredScopes: [['crm:read', 'pii:read']] },
      ]),
    );
  });

  it('should accept either branch of an OR and name both when neither is held', async () => {
    const query = '{ accounts(count: 1) { either } }';
    expect((await run(schema, query, caller('crm:read', 'email:read'))).result.errors).toBeUndefined();
    expect(
      (await run(schema, query, caller('crm:read', 'ads:read', 'campaigns:read'))).result.errors,
    ).toBeUndefined();
    const denied = await run(schema, query, caller('crm:read', 'ads:read'));
    expect(denied.result.errors?.map((e) => e.message)).toEqual([
      'Not authorized to read Account.either: requires (ads:read and campaigns:read and crm:read) or (crm:read and email:read)',
    ]);
  });

  it('should resolve _entities and null only the denied field of each entity, not the batch', async () => {
    const query = /* GraphQL */ `
      query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Account {
            id
            email
            either
          }
        }
      }
    `;
    const representations = [
      { __typename: 'Account', id: '7' },
      { __typename: 'Account', id: '8' },
    ];
    const { result } = await run(schema, query, caller('crm:read', 'email:read'), { representations });
    expect(result.data).toEqual({
      _entities: [
        { id: '7', email: null, either: 'either' },
        { id: '8', email: null, either: 'either' },
      ],
    });
    expect(result.errors?.map((e) => [e.path, e.extensions['code']])).toEqual([
      [['_entities', 0, 'email'], 'FORBIDDEN'],
      [['_entities', 1, 'email'], 'FORBIDDEN'],
    ]);
    // `_entities` asks for the entity type's own requirement; a key field needs nothing more.
    const keysOnly =
      '{ _entities(representations: [{ __typename: "Account", id: "9" }]) { ... on Account { id } } }';
    expect((await run(schema, keysOnly, caller('crm:read'))).result).toEqual({
      data: { _entities: [{ id: '9' }] },
    });
    const withoutType = await run(schema, keysOnly, caller('email:read'));
    expect(withoutType.result.data).toBeNull();
    expect(withoutType.result.errors?.map((e) => [e.message, e.extensions['code']])).toEqual([
      ['Not authorized to read Query._entities: requires crm:read', 'FORBIDDEN'],
    ]);
  });

  it('should deny an undeclared field to every caller', async () => {
    const all = caller('crm:read', 'pii:read', 'ads:read', 'campaigns:read', 'email:read');
    const note = await run(schema, '{ note { text } }', all);
    expect(note.result.data).toEqual({ note: null });
    expect(
      note.result.errors?.map((e) => [e.path, e.extensions['code'], e.extensions['requiredScopes']]),
    ).toEqual([[['note'], 'FORBIDDEN', []]]);
    expect((await run(schema, '{ health { up } }', all)).result.data).toEqual({ health: null });
  });

  it('should give a key field without its own scope only to a fetch whose token lists it as planned', async () => {
    const query = '{ accounts(count: 1) { id email } }';
    const client = await run(schema, query, caller('crm:read'));
    expect(client.result.data).toEqual({ accounts: [{ id: '1', email: null }] });
    expect(client.result.errors?.map((e) => [e.path, e.extensions['code']])).toEqual([
      [['accounts', 0, 'email'], 'FORBIDDEN'],
    ]);
    const join = await run(schema, query, { ...caller('crm:read'), planned: new Set(['Account.email']) });
    expect(join.result).toEqual({ data: { accounts: [{ id: '1', email: 'person1@example.com' }] } });
    // Planned says "the join may read it", not "anyone may": the type's own scope is still needed.
    const withoutType = await run(
      schema,
      '{ _entities(representations: [{ __typename: "Account", id: "1" }]) { ... on Account { email } } }',
      {
        ...caller(),
        planned: new Set(['Account.email']),
      },
    );
    expect(withoutType.result.data).toBeNull();
    // Planned for another field opens nothing here.
    const other = await run(schema, query, { ...caller('crm:read'), planned: new Set(['Account.either']) });
    expect(other.result.errors?.map((e) => e.extensions['code'])).toEqual(['FORBIDDEN']);
  });

  it('should deny @authenticated fields when no caller reached the context', async () => {
    const { result } = await run(schema, '{ _service { sdl } }', undefined);
    // `_service` is non-null, so the denial nulls the whole response.
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.message).toBe(
      'Not authorized to read Query._service: requires a valid gateway token',
    );
  });

  it("should pass a resolver's coded error through and mask anything else", async () => {
    const coded = await run(schema, '{ accounts(count: 1) { bad } }', caller('crm:read'));
    expect(coded.result.errors?.map((e) => [e.path, e.message, e.extensions])).toEqual([
      [['accounts', 0, 'bad'], '`bad` is always bad.', { code: 'BAD_USER_INPUT', argumentName: 'bad' }],
    ]);
    const masked = await run(schema, '{ failing { value } }', caller());
    expect(masked.result.errors?.map((e) => [e.path, e.message, e.extensions])).toEqual([
      [['failing'], 'Internal server error', { code: 'INTERNAL_SERVER_ERROR' }],
    ]);
    // The original stays attached for the kit's error log, never in the message.
    expect(masked.result.errors?.[0]?.originalError?.message).toBe('Internal server error');
    const original = (masked.result.errors?.[0]?.originalError as { originalError?: Error } | undefined)
      ?.originalError;
    expect(original?.message).toContain('hunter2');
  });

  it('should decide each field once per request, whatever the number of instances', async () => {
    const { result, contextValue } = await run(
      schema,
      '{ accounts(count: 50) { id email either secret { value } } }',
      caller('crm:read', 'pii:read', 'email:read'),
    );
    expect(result.errors).toBeUndefined();
    // `id`, `secret` (@authenticated adds nothing to the type's crm:read) and `Secret.value` need
    // nothing beyond their type: decided where the object is reached.
    const decisions = permissionDecisions(contextValue);
    expect([...(decisions?.decided ?? [])].sort()).toEqual([
      ['Account.either', true],
      ['Account.email', true],
      ['Query.accounts', true],
    ]);
    expect(decisions?.evaluations).toBe(3);
  });

  it('should decide per request: another caller on the same schema is decided afresh', async () => {
    const allowed = await run(schema, '{ accounts(count: 3) { email } }', caller('crm:read', 'pii:read'));
    const denied = await run(schema, '{ accounts(count: 3) { email } }', caller('crm:read'));
    expect(allowed.result.errors).toBeUndefined();
    expect(denied.result.errors?.map((e) => e.path)).toEqual([
      ['accounts', 0, 'email'],
      ['accounts', 1, 'email'],
      ['accounts', 2, 'email'],
    ]);
    expect(permissionDecisions(denied.contextValue)?.decided.get('Account.email')).toBe(false);
  });

  it('should count denied fields by subgraph and coordinate', async () => {
    const before = await subgraphMetrics.deniedFields.get({ subgraph: 'crm', field: 'Account.email' });
    await run(schema, '{ accounts(count: 3) { email } }', caller('crm:read'));
    expect(await subgraphMetrics.deniedFields.get({ subgraph: 'crm', field: 'Account.email' })).toBe(
      before + 3,
    );
  });
});
