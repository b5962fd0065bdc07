import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  getNamedType,
  isObjectType,
  Kind,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLObjectType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES } from '../../lib/auth/scopes.js';
import { PLATFORM_SUBGRAPHS, type PlatformSubgraphName } from '../../lib/graphql/subgraph-names.js';
import { historyFor } from '../../platforms/twilio/sandbox/history.js';
import { DEMO_CREDENTIALS } from '../../sandboxes/demo-credentials.js';
import { generateWorld } from '../../sandboxes/world/world.js';
import { subgraphTypeDefs } from '../../subgraphs/kit/schema-file.js';
import { TEST_ANCHOR_DATE } from '../helpers/sandbox.js';
import { startSubgraph, type RunningSubgraph } from '../helpers/subgraph.js';

/**
 * The permission table: every field reachable from a subgraph's `Query` root or through
 * `_entities`, generated from the subgraph's own SDL, run with exactly the scopes it needs and with
 * every scope but one of them. What the field needs is derived here from the directives on their
 * own (not from the kit), so a mistake in the kit's rule generation shows up as a failed row.
 * Key fields are rows like any other; a key field with scopes of its own (`Customer.email`) is also
 * run without them, with and without a token naming it `planned` (the query planner's join).
 */

interface Body {
  data?: Record<string, unknown> | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

// ── data the queries ask for, chosen from the seeded world so that every path has values ──────────

const world = generateWorld({ seed: 7, customers: 300, anchorDate: TEST_ANCHOR_DATE });
const since = world.windowStart;
const until = TEST_ANCHOR_DATE;
const ordersOf = (index: number) => world.ordersByCustomer.get(index) ?? [];
const customer = world.customers.find(
  (c) =>
    c.audience !== undefined &&
    c.audience.optedInAt !== null &&
    c.shop !== undefined &&
    c.crm.lists.length > 0 &&
    ordersOf(c.person.index)
      .slice(-5)
      .some((o) => o.landingSite.includes('utm_campaign=')),
);
const campaignKey = world.campaigns.find(
  (c) =>
    world.adCampaigns.some((a) => a.key === c.key) &&
    world.emailCampaigns.some((e) => e.key === c.key) &&
    world.orders.some((o) => o.landingSite.includes(`utm_campaign=${c.key}&`)),
)?.key;
if (!customer || !campaignKey) throw new Error('the seeded world has no customer or campaign rich enough');

/** Argument values by field coordinate; a required argument missing here fails the table build. */
const ARGUMENTS: Record<string, Record<string, string | number>> = {
  'Query.customer': { email: customer.person.email },
  'Query.customers': { first: 25 },
  'Query.campaignPerformance': { since, until },
  'Query.adCampaigns': { since, until },
  'Query.emailCampaigns': { since, until },
  'Customer.orders': { first: 5 },
  'Customer.smsMessages': { first: 5 },
};

/** A customer number with texts in the Twilio sandbox's history, so every messaging path has values. */
const textedPhone = world.customers
  .map((c) => c.person.phone)
  .find((phone) => historyFor(world, phone.replace(/\s/g, ''), DEMO_CREDENTIALS.twilio.from).length > 0);
if (!textedPhone) throw new Error('the seeded world has no customer with text messages');

/** Representations by entity type and key, as the query planner sends them. */
const REPRESENTATION: Record<string, Record<string, unknown>> = {
  'Customer(id)': { __typename: 'Customer', id: customer.crm.id },
  'Customer(email)': { __typename: 'Customer', email: customer.person.email },
  'Customer(phone)': { __typename: 'Customer', phone: textedPhone },
  'CampaignPerformance(key since until)': {
    __typename: 'CampaignPerformance',
    key: campaignKey,
    since,
    until,
  },
};
/** What the planner adds for a subgraph's `@requires` (commerce needs the ads spend for `roas`). */
const REQUIRED: Record<string, Record<string, unknown>> = {
  CampaignPerformance: { ads: { spend: { amount: '250.00', currency: 'USD' } } },
};

// ── what each field needs, read from the directives ──────────────────────────────────────────────

interface Need {
  /** Scopes a token must hold (the union of the parent type's, the return type's and the field's). */
  scopes: string[];
  /** A field of one of the type's `@key`s. */
  key: boolean;
  /** Scopes the field declares on itself beyond its parent type's and return type's. */
  own: string[];
  /** Whether any of the three declares anything (every reachable field must). */
  declared: boolean;
}

const FEDERATION_FIELDS = new Set(['Query._entities', 'Query._service', '_Service.sdl']);

interface WithDirectives {
  astNode?: { directives?: readonly ConstDirectiveNode[] | undefined } | null | undefined;
}

function directives(element: WithDirectives) {
  return element.astNode?.directives ?? [];
}

/** This table supports one conjunction per `@requiresScopes` (all the SDLs use today). */
function declaredScopes(element: WithDirectives) {
  let declared = false;
  const scopes: string[] = [];
  for (const directive of directives(element)) {
    if (directive.name.value === 'authenticated') declared = true;
    if (directive.name.value !== 'requiresScopes') continue;
    declared = true;
    const value = directive.arguments?.find((a) => a.name.value === 'scopes')?.value;
    if (value?.kind !== Kind.LIST || value.values.length !== 1 || value.values[0]?.kind !== Kind.LIST) {
      throw new Error('the permission table handles @requiresScopes with one list of scopes; extend it');
    }
    for (const scope of value.values[0].values) {
      if (scope.kind !== Kind.STRING) throw new Error('a scope is not a string');
      scopes.push(scope.value);
    }
  }
  return { declared, scopes };
}

/** The type's `@key` field sets; `resolvable: false` ones only when `all` (no `_entities` entry). */
function keyFieldsOf(type: GraphQLObjectType, all = true): string[][] {
  return directives(type)
    .filter((d) => d.name.value === 'key')
    .filter(
      (d) =>
        all ||
        !d.arguments?.some(
          (a) => a.name.value === 'resolvable' && a.value.kind === Kind.BOOLEAN && !a.value.value,
        ),
    )
    .map((d) => {
      const fields = d.arguments?.find((a) => a.name.value === 'fields')?.value;
      if (fields?.kind !== Kind.STRING || fields.value.includes('{')) {
        throw new Error(`the permission table handles flat @key field sets only (${type.name})`);
      }
      return fields.value.split(/\s+/).filter(Boolean);
    });
}

function needOf(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): Need {
  const coordinate = `${type.name}.${field.name}`;
  if (FEDERATION_FIELDS.has(coordinate)) return { scopes: [], key: false, own: [], declared: true };
  const elements: WithDirectives[] = [type, getNamedType(field.type), field];
  const parts = elements.map(declaredScopes);
  const [onType, onReturn, onField] = parts;
  const inherited = new Set([...(onType?.scopes ?? []), ...(onReturn?.scopes ?? [])]);
  return {
    scopes: [...new Set(parts.flatMap((p) => p.scopes))].sort(),
    key: keyFieldsOf(type).some((key) => key.includes(field.name)),
    own: (onField?.scopes ?? []).filter((s) => !inherited.has(s)),
    declared: parts.some((p) => p.declared),
  };
}

// ── the rows ─────────────────────────────────────────────────────────────────────────────────────

interface Step {
  type: GraphQLObjectType;
  field: GraphQLField<unknown, unknown>;
  coordinate: string;
  need: Need;
}

interface Row {
  entry: string;
  steps: Step[];
  /** The `_entities` representation, for rows entered through an entity. */
  representation?: Record<string, unknown>;
  entity?: string;
}

function stepOf(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>): Step {
  return { type, field, coordinate: `${type.name}.${field.name}`, need: needOf(type, field) };
}

/** Every field under `steps`, depth first, each type entered once per path. */
function expand(entry: Omit<Row, 'steps'>, steps: Step[], out: Row[]): void {
  out.push({ ...entry, steps });
  const last = steps[steps.length - 1];
  const type = last ? getNamedType(last.field.type) : undefined;
  if (!type || !isObjectType(type) || steps.some((s) => s.type === type)) return;
  for (const field of Object.values(type.getFields())) expand(entry, [...steps, stepOf(type, field)], out);
}

function tableOf(name: PlatformSubgraphName): Row[] {
  const schema = buildSubgraphSchema({ typeDefs: subgraphTypeDefs(name) });
  const query = schema.getQueryType();
  if (!query) throw new Error('no Query type');
  const rows: Row[] = [];
  for (const field of Object.values(query.getFields())) {
    if (field.name === '_entities') continue;
    expand({ entry: `Query.${field.name}` }, [stepOf(query, field)], rows);
  }
  const entities = query.getFields()['_entities'];
  if (!entities) throw new Error('no _entities: the subgraph has no entity');
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('_')) continue;
    for (const key of keyFieldsOf(type, false)) {
      const label = `${type.name}(${key.join(' ')})`;
      const representation = REPRESENTATION[label];
      if (!representation) throw new Error(`no representation for ${label}: add one`);
      const external = Object.values(type.getFields()).some((f) =>
        directives(f).some((d) => d.name.value === 'external'),
      );
      for (const field of Object.values(type.getFields())) {
        expand(
          {
            entry: `_entities ${label}`,
            entity: type.name,
            representation: { ...representation, ...(external ? REQUIRED[type.name] : {}) },
          },
          // `_entities` checks the type requirement of each representation it is asked for.
          [
            {
              ...stepOf(query, entities),
              need: { scopes: declaredScopes(type).scopes, key: false, own: [], declared: true },
            },
            stepOf(type, field),
          ],
          rows,
        );
      }
    }
  }
  return rows;
}

// ── running a row ────────────────────────────────────────────────────────────────────────────────

const literal = (value: string | number) =>
  typeof value === 'number' ? String(value) : JSON.stringify(value);

function selection(steps: Step[], index: number, row: Row): string {
  const step = steps[index];
  if (!step) return '__typename';
  const given = ARGUMENTS[step.coordinate] ?? {};
  for (const arg of step.field.args) {
    if (step.field.name === '_entities') break;
    if (arg.type.toString().endsWith('!') && arg.defaultValue === undefined && !(arg.name in given)) {
      throw new Error(`${step.coordinate}(${arg.name}:) is required: add it to ARGUMENTS`);
    }
  }
  const args = Object.entries(given).map(([k, v]) => `${k}: ${literal(v)}`);
  const head =
    step.field.name === '_entities' ? '_entities(representations: $representations)' : step.field.name;
  const withArgs = args.length > 0 ? `${head}(${args.join(', ')})` : head;
  const inner = selection(steps, index + 1, row);
  const nested = step.field.name === '_entities' ? `... on ${row.entity} { ${inner} }` : inner;
  return isObjectType(getNamedType(step.field.type)) || step.field.name === '_entities'
    ? `${withArgs} { ${nested} }`
    : withArgs;
}

function queryOf(row: Row): { query: string; variables: Record<string, unknown> } {
  const body = selection(row.steps, 0, row);
  return row.representation
    ? {
        query: `query ($representations: [_Any!]!) { ${body} }`,
        variables: { representations: [row.representation] },
      }
    : { query: `{ ${body} }`, variables: {} };
}

/** Every value found under the path's field names, through lists and past nulls (which end a branch). */
function valuesAt(value: unknown, names: readonly string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, names));
  const [name, ...rest] = names;
  if (name === undefined) return [value];
  if (value === null || typeof value !== 'object' || !(name in value)) return [];
  const next = (value as Record<string, unknown>)[name];
  return rest.length === 0 ? [next] : next === null ? [] : valuesAt(next, rest);
}

async function run(
  subgraph: RunningSubgraph,
  row: Row,
  scopes: readonly string[],
  planned?: readonly string[],
): Promise<Body> {
  const { query, variables } = queryOf(row);
  const token = await subgraph.mint(scopes, 'test-client', planned ? { planned } : {});
  const response = await fetch(subgraph.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  expect(response.status, query).toBe(200);
  return (await response.json()) as Body;
}

const pathLabel = (row: Row) => row.steps.map((s) => s.coordinate).join(' > ');

describe.each(PLATFORM_SUBGRAPHS.map((name) => [name]))('%s subgraph: permission table', (name) => {
  const rows = tableOf(name);
  let subgraph: RunningSubgraph;

  beforeAll(async () => {
    subgraph = await startSubgraph(name, { world });
  });
  afterAll(async () => {
    await subgraph.close();
  });

  it('should cover every reachable field with a requirement (none is public or undeclared)', () => {
    const undeclared = rows
      .flatMap((r) => r.steps)
      .filter((s) => !s.need.declared)
      .map((s) => s.coordinate);
    expect([...new Set(undeclared)]).toEqual([]);
    expect(rows.length).toBeGreaterThan(0);
  });

  const plannedRows = rows.filter(
    (r) => r.steps.at(-1)?.need.key && (r.steps.at(-1)?.need.own.length ?? 0) > 0,
  );

  it.each(plannedRows.map((r) => [`${r.entry}: ${pathLabel(r)}`, r]))(
    'key field %s: without its own scopes, readable only by a fetch whose token lists it as planned (a join)',
    async (_label, row) => {
      const last = row.steps[row.steps.length - 1];
      if (!last) throw new Error('empty row');
      const names = row.steps.map((s) => s.field.name);
      const scopes = [...new Set(row.steps.flatMap((s) => s.need.scopes))].filter(
        (s) => !last.need.own.includes(s),
      );
      const join = await run(subgraph, row, scopes, [last.coordinate]);
      expect(join.errors, queryOf(row).query).toBeUndefined();
      expect(valuesAt(join.data, names).some((v) => v !== null && v !== undefined)).toBe(true);
      const client = await run(subgraph, row, scopes);
      expect(client.errors?.map((e) => e.extensions?.['code'])).toContain('FORBIDDEN');
      expect(valuesAt(client.data, names).filter((v) => v !== null)).toEqual([]);
    },
  );

  it.each(rows.map((r) => [`${r.entry}: ${pathLabel(r)}`, r]))(
    '%s: returned with exactly the scopes the path needs, FORBIDDEN without any one of the field’s own',
    async (_label, row) => {
      const names = row.steps.map((s) => s.field.name);
      const last = row.steps[row.steps.length - 1];
      if (!last) throw new Error('empty row');
      const needed = [...new Set(row.steps.flatMap((s) => s.need.scopes))];
      const allowed = await run(subgraph, row, needed);
      expect(allowed.errors, queryOf(row).query).toBeUndefined();
      // The field was resolved at least once (its parents were not all empty or null).
      expect(valuesAt(allowed.data, names).length, 'no data reached the field').toBeGreaterThan(0);

      for (const missing of last.need.scopes) {
        const body = await run(
          subgraph,
          row,
          ALL_SCOPES.filter((s) => s !== missing),
        );
        // Denied at the first field on the path that needs the missing scope.
        const deniedAt = row.steps.findIndex((s) => s.need.scopes.includes(missing));
        const denied = row.steps[deniedAt];
        const expectedPath = names.slice(0, deniedAt + 1);
        expect(body.errors?.length, `without ${missing}`).toBeGreaterThan(0);
        for (const error of body.errors ?? []) {
          expect(error.extensions?.['code']).toBe('FORBIDDEN');
          expect(error.message).toMatch(
            new RegExp(`^Not authorized to read ${denied?.coordinate}: requires .*${missing}`),
          );
          expect(error.path?.filter((p) => typeof p === 'string')).toEqual(expectedPath);
        }
        expect(valuesAt(body.data, names).filter((v) => v !== null)).toEqual([]);
      }
    },
  );
});

describe('errors from resolvers through the permissions', () => {
  let crm: RunningSubgraph;
  beforeAll(async () => {
    crm = await startSubgraph('crm', { world });
  });
  afterAll(async () => {
    await crm.close();
  });

  async function post(query: string, scopes: readonly string[]): Promise<Body> {
    const response = await fetch(crm.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await crm.mint(scopes)}` },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as Body;
  }

  it('should let BAD_USER_INPUT from customers(first: 0) reach the caller with its code', async () => {
    const body = await post('{ customers(first: 0) { edges { cursor } } }', ['crm:read']);
    expect(body.data).toBeNull();
    expect(body.errors?.map((e) => [e.path, e.message, e.extensions])).toEqual([
      [
        ['customers'],
        '`first` must be from 1 to 500, got 0.',
        { code: 'BAD_USER_INPUT', argumentName: 'first', subgraph: 'crm' },
      ],
    ]);
  });

  it('should let an upstream error reach the caller with its code and platform', async () => {
    await crm.sandbox.setFaults({ malformedRate: 1 });
    try {
      const body = await post(`{ customer(email: ${JSON.stringify(customer.person.email)}) { id } }`, [
        'crm:read',
      ]);
      expect(body.errors?.map((e) => [e.path, e.extensions?.['code'], e.extensions?.['platform']])).toEqual([
        [['customer'], 'UPSTREAM_BAD_RESPONSE', 'hubspot'],
      ]);
    } finally {
      await crm.sandbox.setFaults({});
    }
  });

  it('should put a FORBIDDEN error at the path of a denied field inside _entities and resolve the rest', async () => {
    const others = world.customers.filter((c) => c !== customer).slice(0, 2);
    const representations = [customer, ...others].map((c) => ({
      __typename: 'Customer',
      email: c.person.email,
    }));
    const response = await fetch(crm.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // As the gateway signs a join fetch: the planner added `email`, the client did not ask for it.
        authorization: `Bearer ${await crm.mint(['crm:read'], 'test-client', { planned: ['Customer.email'] })}`,
      },
      body: JSON.stringify({
        query:
          'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id email phone } } }',
        variables: { r: representations },
      }),
    });
    const body = (await response.json()) as Body;
    expect(body.data).toEqual({
      _entities: [customer, ...others].map((c) => ({ id: c.crm.id, email: c.person.email, phone: null })),
    });
    expect(body.errors?.map((e) => [e.path, e.extensions?.['code']])).toEqual(
      [0, 1, 2].map((i) => [['_entities', i, 'phone'], 'FORBIDDEN']),
    );
  });
});
