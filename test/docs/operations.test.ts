import { readFileSync } from 'node:fs';
import { loadClientRegistry } from '../../gateway/auth/registry.js';
import { grantedScopes } from '../../gateway/auth/registry-schema.js';
import {
  getNamedType,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type GraphQLSchema,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { DEMO_API_KEYS, type DemoClientId } from '../../gateway/auth/demo-keys.js';
import { deprecatedCoordinates } from '../../gateway/plugins/deprecated-usage.js';
import { both, readDeclarations, type Declarations, type Requirement } from '../../lib/auth/requirements.js';
import { apiSchemaOf } from '../../lib/graphql/api-schema.js';
import { resolveExampleVariables } from '../../lib/graphql/example-dates.js';
import { readExampleOperations, type ExampleOperation } from '../../lib/graphql/example-operations.js';
import { as } from '../helpers/clients.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { postWebhook, shopifyOrder } from '../helpers/webhooks.js';

/**
 * The example operations in docs/operations are documentation users copy, so each one is held to
 * what its comment says: valid against the supergraph's API schema, needing exactly the scopes it
 * lists (computed from the `@requiresScopes` declarations), runnable by the client it names with
 * that client's demo key and no error, and free of deprecated fields.
 */

const supergraph = readFileSync('schema/supergraph.graphql', 'utf8');
const schema = apiSchemaOf(supergraph);
const declarations = readDeclarations(parse(supergraph));
const operations = readExampleOperations('docs/operations');
const registry = loadClientRegistry('gateway/auth/demo-clients.json');

/** Scopes the operation needs, as the gateway reads them: parent type, field and returned type together. */
function requiredScopes(apiSchema: GraphQLSchema, access: Declarations, source: string): string[] {
  let requirement: Requirement | undefined;
  const typeInfo = new TypeInfo(apiSchema);
  visit(
    parse(source),
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        if (node.name.value === '__schema' || node.name.value === '__type')
          requirement = both(requirement, [['schema:read']]);
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!parent || !field) return;
        requirement = both(
          requirement,
          access.requirement(parent.name, field.name, getNamedType(field.type).name),
        );
      },
    }),
  );
  // Every requirement in this graph has one alternative; an operation's is their union.
  expect(requirement?.length ?? 1).toBe(1);
  return [...(requirement?.[0] ?? [])].sort();
}

const isDemoClient = (client: string): client is DemoClientId => Object.hasOwn(DEMO_API_KEYS, client);

describe('example operations (docs/operations)', () => {
  it('should cover every kind of user with named operations', () => {
    const files = new Set(operations.map((operation) => operation.file));
    expect([...files].sort()).toEqual([
      'event-subscriber.graphql',
      'explorer-developer.graphql',
      'personalization-service.graphql',
      'reporting-dashboard.graphql',
    ]);
    expect(operations.map((operation) => operation.name)).toEqual(
      expect.arrayContaining([
        'Dashboard',
        'Profile',
        'Customers',
        'EventsHistory',
        'OrderEvents',
        'ChannelEvents',
      ]),
    );
    expect(operations.filter((operation) => operation.kind === 'subscription').length).toBeGreaterThanOrEqual(
      2,
    );
  });

  describe.each(operations.map((operation) => [operation.name, operation] as const))(
    '%s',
    (_name, operation) => {
      it('should validate against the supergraph API schema', () => {
        expect(validate(schema, parse(operation.source)).map((error) => error.message)).toEqual([]);
      });

      it('should list exactly the scopes it needs, all held by the client it names', () => {
        expect(operation.scopes).toEqual(requiredScopes(schema, declarations, operation.source));
        expect(isDemoClient(operation.client), `${operation.client} is a demo client`).toBe(true);
        const client = registry.client(operation.client);
        const held: readonly string[] = client ? grantedScopes(client) : [];
        expect(operation.scopes.filter((scope) => !held.includes(scope))).toEqual([]);
      });

      it('should use no deprecated field, argument or enum value', () => {
        expect([...deprecatedCoordinates(schema, parse(operation.source), operation.name)]).toEqual([]);
      });
    },
  );

  describe('run through the whole stack with the demo key of the client each names', () => {
    let stack: Stack;
    let variables: (operation: ExampleOperation) => Record<string, unknown>;

    beforeAll(async () => {
      stack = await startTestStack({ customers: 150 });
      const customer = stack.world.customers.find(
        (c) =>
          c.crm.lists.length > 0 &&
          c.audience &&
          (stack.world.ordersByCustomer.get(c.person.index)?.length ?? 0) >= 1,
      );
      if (!customer) throw new Error('the test world has no customer with lists, a subscription and orders');
      // An order, so the event history has something to page through.
      const ack = await postWebhook(
        stack.origins.gateway,
        shopifyOrder({ email: customer.person.email, totalPrice: '42.00' }),
      );
      expect(ack.status).toBe(200);
      // The examples' own values, their relative days counted from the test world's anchor date,
      // with the customer and the CRM id of the test world.
      const fromWorld: Record<string, unknown> = { email: customer.person.email, id: customer.crm.id };
      variables = (operation) =>
        Object.fromEntries(
          Object.entries(resolveExampleVariables(operation.variables, TEST_ANCHOR_DATE)).map(
            ([name, value]) => [name, name in fromWorld ? fromWorld[name] : value],
          ),
        );
    });
    afterAll(async () => {
      await stack?.close();
    });

    const runnable = operations.filter((operation) => operation.kind !== 'subscription');
    it.each(runnable.map((operation) => [operation.name, operation] as const))(
      '%s should answer with data and no error',
      async (_name, operation) => {
        if (!isDemoClient(operation.client)) throw new Error(`${operation.client} is not a demo client`);
        const response = await graphql(
          stack.gatewayUrl,
          operation.source,
          variables(operation),
          as(operation.client),
        );
        expect(response.body.errors ?? []).toEqual([]);
        expect(response.status).toBe(200);
        const data = response.body.data ?? {};
        const roots = parse(operation.source).definitions.flatMap((definition) =>
          'selectionSet' in definition ? definition.selectionSet.selections : [],
        );
        for (const root of roots)
          if (root.kind === 'Field')
            expect(data[root.alias?.value ?? root.name.value], root.name.value).not.toBeNull();
      },
    );

    it('should find the order webhook in the event history read by EventsHistory', async () => {
      const history = operations.find((operation) => operation.name === 'EventsHistory');
      if (!history || !isDemoClient(history.client)) throw new Error('EventsHistory is missing');
      // Processing is asynchronous: poll until the event is delivered (or the test times out).
      for (;;) {
        const response = await graphql<{ events: { edges: { node: { type: string } }[] } }>(
          stack.gatewayUrl,
          history.source,
          { ...variables(history), types: ['ORDER_PLACED'] },
          as(history.client),
        );
        expect(response.body.errors ?? []).toEqual([]);
        if ((response.body.data?.events.edges.length ?? 0) > 0) {
          expect(response.body.data!.events.edges[0]!.node.type).toBe('ORDER_PLACED');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
  });
});
