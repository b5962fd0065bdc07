import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isObjectType,
  Kind,
  parse,
  type GraphQLObjectType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../cli/stack.js';
import { generateGatewayKeys, GatewayTokenSigner } from '../../lib/auth/gateway-token.js';
import { ALL_SCOPES } from '../../lib/auth/scopes.js';
import { addDays } from '../../lib/dates.js';
import { PLATFORM_SUBGRAPHS } from '../../lib/graphql/subgraph-names.js';
import { as } from '../helpers/clients.js';
import { writeTestRegistry } from '../helpers/registry.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { graphql, startTestStack } from '../helpers/stack.js';
import { DEMO_API_KEYS } from '../../gateway/auth/demo-keys.js';

/**
 * The permission matrix, generated from the supergraph: every field of every type is selected by a
 * query reaching it from the root, run as a client holding exactly the scopes it needs (the field
 * comes back) and as clients missing one of them (it does not, with a FORBIDDEN error). The same
 * queries sent straight to a subgraph without a gateway token, or with a forged one, get nothing.
 *
 * The expected requirements are read here from the supergraph's directives on their own, not with
 * the gateway's policy code, so the test checks the gateway rather than repeating it.
 */

function readRequirements(sdl: string): { types: Map<string, string[]>; fields: Map<string, string[]> } {
  const types = new Map<string, string[]>();
  const fields = new Map<string, string[]>();
  const scopesOf = (
    directives: readonly { name: { value: string }; arguments?: readonly { value: unknown }[] }[] | undefined,
  ): string[] => {
    const out: string[] = [];
    for (const d of directives ?? []) {
      if (d.name.value !== 'requiresScopes') continue;
      const outer = d.arguments?.[0]?.value as { values: { values: { value: string }[] }[] };
      // The first alternative: every requirement has one, but webhooks' `webhooks:read` or
      // `webhooks:admin`, where the first (reading) is what a client holding only it may read.
      for (const v of outer.values[0]?.values ?? []) out.push(v.value);
    }
    return out;
  };
  for (const def of parse(sdl).definitions) {
    if (def.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    types.set(def.name.value, scopesOf(def.directives));
    for (const f of def.fields ?? []) fields.set(`${def.name.value}.${f.name.value}`, scopesOf(f.directives));
  }
  return { types, fields };
}

interface Row {
  coordinate: string;
  query: string;
  /** Response keys to the field; `@` means "the first element". */
  path: string[];
  /** Scopes the path and the field need together. */
  needed: string[];
  /** Scopes the field itself needs (each one's absence must hide it). */
  own: string[];
}

describe('permission matrix (generated from the supergraph)', () => {
  const supergraph = readFileSync('schema/supergraph.graphql', 'utf8');
  const requirements = readRequirements(supergraph);
  const requirementOf = (parent: string, field: string, returns: string) => [
    ...new Set([
      ...(requirements.types.get(parent) ?? []),
      ...(requirements.types.get(returns) ?? []),
      ...(requirements.fields.get(`${parent}.${field}`) ?? []),
    ]),
  ];
  let discovery: Stack;
  let schema: GraphQLSchema;
  const rows: Row[] = [];
  let stack: Stack;
  let keys: Record<string, string[]> = {};
  let closeReceiver: (() => Promise<void>) | undefined;
  const scopeSetId = (scopes: readonly string[]) => [...scopes].sort().join(' ') || '(none)';

  beforeAll(async () => {
    // Discover the API schema the way a developer does: introspection as the admin.
    discovery = await startTestStack({ customers: 120 });
    const introspection = await graphql<IntrospectionQuery>(
      discovery.gatewayUrl,
      getIntrospectionQuery(),
      {},
      as('admin'),
    );
    schema = buildClientSchema(introspection.body.data as IntrospectionQuery);
    const world = discovery.world;
    await discovery.close();
    const customer = world.customers.find(
      (c) =>
        c.crm.lists.length > 0 &&
        c.audience &&
        (world.ordersByCustomer.get(c.person.index)?.length ?? 0) >= 1,
    )!;
    const since = addDays(TEST_ANCHOR_DATE, -29);
    const args: Record<string, string> = {
      'Query.customer': `(email: "${customer.person.email}")`,
      'Query.customers': '(first: 2)',
      'Customer.orders': '(first: 3)',
      'Query.campaignPerformance': `(since: "${since}", until: "${TEST_ANCHOR_DATE}")`,
      'Query.adCampaigns': `(since: "${since}", until: "${TEST_ANCHOR_DATE}")`,
      'Query.emailCampaigns': `(since: "${addDays(TEST_ANCHOR_DATE, -89)}", until: "${TEST_ANCHOR_DATE}")`,
    };
    // Shortest route from the root to every object type.
    const routes = new Map<
      string,
      { steps: { parent: string; field: string; returns: string; list: boolean }[] }
    >();
    const query = schema.getQueryType()!;
    routes.set(query.name, { steps: [] });
    const queue: GraphQLObjectType[] = [query];
    while (queue.length > 0) {
      const type = queue.shift()!;
      for (const field of Object.values(type.getFields())) {
        const named = getNamedType(field.type);
        if (!isObjectType(named) || routes.has(named.name)) continue;
        if (
          field.args.some((a) => a.type.toString().endsWith('!') && a.defaultValue === undefined) &&
          !args[`${type.name}.${field.name}`]
        )
          continue;
        const list = field.type.toString().includes('[');
        routes.set(named.name, {
          steps: [
            ...routes.get(type.name)!.steps,
            { parent: type.name, field: field.name, returns: named.name, list },
          ],
        });
        queue.push(named);
      }
    }
    for (const [typeName, route] of routes) {
      const type = schema.getType(typeName) as GraphQLObjectType;
      for (const field of Object.values(type.getFields())) {
        const named = getNamedType(field.type);
        const fieldArgs = args[`${typeName}.${field.name}`] ?? '';
        if (
          field.args.some((a) => a.type.toString().endsWith('!') && a.defaultValue === undefined) &&
          !fieldArgs
        )
          continue;
        const leaf = `${field.name}${fieldArgs}${isObjectType(named) ? ' { __typename }' : ''}`;
        const text = route.steps.reduceRight(
          (inner, step) => `${step.field}${args[`${step.parent}.${step.field}`] ?? ''} { ${inner} }`,
          leaf,
        );
        const path = route.steps.flatMap((s) => (s.list ? [s.field, '@'] : [s.field]));
        const needed = new Set<string>();
        for (const step of route.steps)
          for (const s of requirementOf(step.parent, step.field, step.returns)) needed.add(s);
        const own = requirementOf(typeName, field.name, named.name);
        for (const s of own) needed.add(s);
        rows.push({
          coordinate: `${typeName}.${field.name}`,
          query: `{ ${text} }`,
          path: [...path, field.name],
          needed: [...needed].sort(),
          own,
        });
      }
    }
    const scopeSets = new Map<string, string[]>();
    for (const row of rows) {
      scopeSets.set(scopeSetId(row.needed), row.needed);
      for (const s of row.own) {
        const without = row.needed.filter((x) => x !== s);
        scopeSets.set(scopeSetId(without), without);
      }
    }
    const registry = writeTestRegistry(
      [...scopeSets.values()].map((scopes, i) => ({ id: `matrix-${i}`, scopes })),
    );
    keys = Object.fromEntries([...scopeSets.keys()].map((id, i) => [id, registry.keys[`matrix-${i}`]!]));
    // A rule that cannot evaluate page views (they carry no order total) dead-letters them.
    stack = await startTestStack({
      customers: 120,
      clientsFile: registry.clientsFile,
      // The demo syncs, so that syncs, their runs and rows exist to be read.
      syncs: {
        file: 'syncs/demo.yaml',
        stateFile: ':memory:',
        apiKey: DEMO_API_KEYS['personalization-service'],
      },
      events: {
        routingRules: [
          { name: 'broken', channel: 'broken', when: { types: ['PAGE_VIEWED'], orderTotalAtLeast: '1.00' } },
        ],
      },
    });
    // A webhook endpoint owned by the client that holds only `webhooks:read` (a reader sees only
    // its own), answering 204, so its messages and attempts exist to be read.
    // Its first answer is a 500, so the endpoint's connection in the health model (the first
    // listed) has failures by class; the retry gets the 204.
    let answered = 0;
    const receiver = createServer((_req, res) => res.writeHead(answered++ === 0 ? 500 : 204).end());
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    closeReceiver = () => new Promise((resolve) => receiver.close(() => resolve()));
    const readerIndex = [...scopeSets.keys()].indexOf(scopeSetId(['webhooks:read']));
    const webhooks = stack.gateway.events.deliveries!.service;
    const { endpoint } = await webhooks.createEndpoint({
      url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`,
      ownerClientId: `matrix-${readerIndex}`,
    });
    // One sync run, so a sync has a last run.
    await stack.syncs!.run('vip-customers');
    // One delivered event about the customer, with personal data, and one dead letter.
    const now = new Date().toISOString();
    const event = (type: 'FORM_SUBMITTED' | 'PAGE_VIEWED') => ({
      dedupeKey: `matrix:${type}`,
      type,
      source: 'site' as const,
      occurredAt: now,
      receivedAt: now,
      customer: { email: customer.person.email },
      properties: { formId: 'contact-us' },
      personal: { firstname: customer.person.firstName },
    });
    await stack.eventLog.append([event('FORM_SUBMITTED'), event('PAGE_VIEWED')]);
    stack.gateway.events.processor.wake();
    for (let i = 0; i < 200 && (await stack.eventLog.stats()).pending > 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    for (
      let i = 0;
      i < 200 && (await webhooks.attempts({ endpointId: endpoint.id, limit: 1 })).length === 0;
      i++
    )
      await new Promise((r) => setTimeout(r, 25));
  });

  afterAll(async () => {
    await stack?.close();
    await closeReceiver?.();
  });

  const valueAt = (data: unknown, path: readonly string[]): unknown => {
    let current: unknown = data;
    for (const key of path) {
      if (current === null || current === undefined) return current;
      current = key === '@' ? (current as unknown[])[0] : (current as Record<string, unknown>)[key];
    }
    return current;
  };

  it('should cover every field of every type reachable from the root', () => {
    process.stdout.write(
      `permission matrix: ${rows.length} fields, ${rows.reduce((n, r) => n + 1 + r.own.length, 0)} gateway checks\n`,
    );
    const reachable = new Set(rows.map((r) => r.coordinate));
    expect(rows.length).toBeGreaterThan(60);
    for (const coordinate of [
      'Customer.email',
      'Customer.phone',
      'Customer.emailSubscription',
      'Order.totalPrice',
      'CampaignPerformance.roas',
      'AdStats.spend',
      'Money.amount',
      'WebhookMessage.payload',
      'WebhookAttempt.responseBody',
    ]) {
      expect(reachable).toContain(coordinate);
    }
  });

  it('should return each field exactly to the clients whose scopes allow it', async () => {
    const failures: string[] = [];
    for (const row of rows) {
      const allowed = await graphql(
        stack.gatewayUrl,
        row.query,
        {},
        { authorization: `Bearer ${keys[scopeSetId(row.needed)]![0]}` },
      );
      const forbidden = allowed.body.errors?.filter((e) => e.extensions?.['code'] === 'FORBIDDEN') ?? [];
      if (forbidden.length > 0 || valueAt(allowed.body.data, row.path) === undefined) {
        failures.push(
          `${row.coordinate} with [${row.needed.join(' ')}]: not returned (${JSON.stringify(allowed.body.errors ?? null)})`,
        );
      }
      for (const missing of row.own) {
        const scopes = row.needed.filter((s) => s !== missing);
        const denied = await graphql(
          stack.gatewayUrl,
          row.query,
          {},
          { authorization: `Bearer ${keys[scopeSetId(scopes)]![0]}` },
        );
        const value = valueAt(denied.body.data, row.path);
        // Denied by the gateway itself (no `subgraph` on the error): the field was never fetched.
        const named =
          denied.body.errors?.some(
            (e) => e.extensions?.['code'] === 'FORBIDDEN' && e.extensions['subgraph'] === undefined,
          ) ?? false;
        if ((value !== null && value !== undefined) || !named) {
          failures.push(
            `${row.coordinate} without ${missing}: returned ${JSON.stringify(value)}, errors ${JSON.stringify(denied.body.errors ?? null)}`,
          );
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('should give nothing to a direct subgraph call without a gateway token or with a forged one', async () => {
    const forger = new GatewayTokenSigner((await generateGatewayKeys()).privateJwk);
    const failures: string[] = [];
    for (const row of rows.slice(0, 40)) {
      for (const name of PLATFORM_SUBGRAPHS) {
        for (const authorization of [
          undefined,
          `Bearer ${await forger.tokenFor(name, { clientId: 'attacker', scopes: ALL_SCOPES })}`,
        ]) {
          const response = await fetch(`${stack.origins[name]}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
            body: JSON.stringify({ query: row.query }),
          });
          const body = (await response.json()) as {
            data?: unknown;
            errors?: { extensions?: { code?: string } }[];
          };
          if (
            response.status !== 401 ||
            'data' in body ||
            body.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED'
          ) {
            failures.push(
              `${name} ${row.coordinate} ${authorization ? 'forged' : 'no token'}: HTTP ${response.status}`,
            );
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
