import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  allows,
  both,
  describeRequirement,
  directiveNames,
  readDeclarations,
  undeclaredFields,
} from '../../lib/auth/requirements.js';
import { composeSupergraph, readSubgraphSchemas } from '../../lib/graphql/compose.js';

const federation = (imports: string, extra = '') =>
  `extend schema @link(url: "https://specs.apollo.dev/federation/v2.5"${extra}, import: ${imports})`;

const namesOf = (sdl: string) => {
  const names = directiveNames(parse(sdl).definitions);
  return {
    requiresScopes: [...names.requiresScopes],
    authenticated: [...names.authenticated],
    key: [...names.key],
  };
};

describe('directive names from @link', () => {
  it('should read plain imports by their own names', () => {
    expect(namesOf(federation('["@key", "@requiresScopes", "@authenticated"]'))).toEqual({
      requiresScopes: ['requiresScopes'],
      authenticated: ['authenticated'],
      key: ['key'],
    });
  });

  it('should follow an import renamed with `as`', () => {
    expect(
      namesOf(
        federation(
          '[{ name: "@requiresScopes", as: "@scopes" }, { name: "@authenticated", as: "@signedIn" }]',
        ),
      ),
    ).toMatchObject({ requiresScopes: ['scopes'], authenticated: ['signedIn'] });
  });

  it('should name what is not imported with the prefix, the link’s own `as` when it has one', () => {
    expect(namesOf(federation('["@key"]'))).toEqual({
      requiresScopes: ['federation__requiresScopes'],
      authenticated: ['federation__authenticated'],
      key: ['key'],
    });
    expect(namesOf(federation('[]', ', as: "fed"'))).toEqual({
      requiresScopes: ['fed__requiresScopes'],
      authenticated: ['fed__authenticated'],
      key: ['fed__key'],
    });
  });

  it("should read a supergraph's spec links: the element named like its spec, or the link's `as`", () => {
    const supergraph = (extra: string) => `schema
      @link(url: "https://specs.apollo.dev/link/v1.0")
      @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
      @link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY${extra})
      @link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)
      { query: Query }`;
    expect(namesOf(supergraph(''))).toMatchObject({
      requiresScopes: ['requiresScopes'],
      authenticated: ['authenticated'],
    });
    expect(namesOf(supergraph(', as: "scopes"')).requiresScopes).toEqual(['scopes']);
    expect([...directiveNames(parse(supergraph('')).definitions).joinType]).toEqual(['join__type']);
  });

  it('should treat an SDL without a federation link as Federation 1: @key, and no scopes', () => {
    expect(namesOf('type Query { a: String }')).toEqual({
      requiresScopes: [],
      authenticated: [],
      key: ['key'],
    });
  });
});

describe('reading declarations', () => {
  const read = (body: string, imports = '["@key", "@requiresScopes", "@authenticated"]') =>
    readDeclarations(parse(`${federation(imports)}\n${body}`));

  it('should coerce scopes as GraphQL does: a string, a flat list (OR), lists of lists, mixed', () => {
    const declarations = read(`
      type Query {
        bare: String @requiresScopes(scopes: "a")
        flat: String @requiresScopes(scopes: ["a", "b"])
        nested: String @requiresScopes(scopes: [["a", "b"], ["c"]])
        mixed: String @requiresScopes(scopes: ["c", ["a", "b"]])
        none: String @requiresScopes(scopes: [])
      }
    `);
    expect(declarations.field('Query.bare')).toEqual([['a']]);
    expect(declarations.field('Query.flat')).toEqual([['a'], ['b']]);
    expect(declarations.field('Query.nested')).toEqual([['a', 'b'], ['c']]);
    expect(declarations.field('Query.mixed')).toEqual([['a', 'b'], ['c']]);
    // An empty list has no alternative: nobody.
    expect(declarations.field('Query.none')).toEqual([]);
  });

  it('should refuse a scopes argument that is not scope names, naming where', () => {
    expect(() => read('type Query { a: String @requiresScopes(scopes: [[1]]) }')).toThrow(
      '@requiresScopes on Query.a needs `scopes`: a list of lists of scope names, like [["crm:read"]].',
    );
  });

  it('should AND the parent type, the return type and the field, across definitions and extensions', () => {
    const declarations = read(`
      type Query { account: Account @authenticated }
      type Account @requiresScopes(scopes: [["crm:read"]]) { email: String @requiresScopes(scopes: [["pii:read"]]) owner: Owner }
      extend type Account @requiresScopes(scopes: [["tenant:read"], ["admin"]])
      type Owner @requiresScopes(scopes: [["people:read"]]) { name: String }
    `);
    expect(declarations.type('Account')).toEqual([
      ['admin', 'crm:read'],
      ['crm:read', 'tenant:read'],
    ]);
    expect(declarations.requirement('Query', 'account', 'Account')).toEqual([
      ['admin', 'crm:read'],
      ['crm:read', 'tenant:read'],
    ]);
    expect(declarations.requirement('Account', 'email', 'String')).toEqual([
      ['admin', 'crm:read', 'pii:read'],
      ['crm:read', 'pii:read', 'tenant:read'],
    ]);
    expect(declarations.requirement('Account', 'owner', 'Owner')).toEqual([
      ['admin', 'crm:read', 'people:read'],
      ['crm:read', 'people:read', 'tenant:read'],
    ]);
  });

  it('should read renamed directives and ignore same-named ones it did not import', () => {
    const declarations = read(
      `
      directive @authenticated on FIELD_DEFINITION
      type Query {
        a: String @scopes(scopes: [["x"]])
        b: String @authenticated
        c: String @signedIn
      }
    `,
      '[{ name: "@requiresScopes", as: "@scopes" }, { name: "@authenticated", as: "@signedIn" }]',
    );
    expect(declarations.field('Query.a')).toEqual([['x']]);
    // `@authenticated` here is some other directive: it declares nothing.
    expect(declarations.requirement('Query', 'b', 'String')).toBeUndefined();
    expect(declarations.field('Query.c')).toEqual([[]]);
  });

  it('should list key fields, nested ones included, from @key and from a supergraph’s @join__type', () => {
    const subgraph = read(`
      type Query { a: A @authenticated }
      type A @key(fields: "id") @key(fields: "org { id } email") @authenticated { id: ID! email: String org: Org }
      type Org @authenticated { id: ID! }
    `);
    expect([...subgraph.keys].sort()).toEqual(['A.email', 'A.id', 'A.org', 'Org.id']);
    const supergraph = readDeclarations(parse(readFileSync('schema/supergraph.graphql', 'utf8')));
    expect([...supergraph.keys].sort()).toEqual([
      'CampaignPerformance.key',
      'CampaignPerformance.since',
      'CampaignPerformance.until',
      'Customer.email',
      'Customer.id',
      'Customer.phone',
    ]);
    expect(supergraph.requirement('Customer', 'email', 'String')).toEqual([['crm:read', 'pii:read']]);
  });
});

describe('deciding', () => {
  it('should deny an undeclared field to everyone and let @authenticated through with no scope', () => {
    expect(allows(undefined, ['crm:read'])).toBe(false);
    expect(allows([], ['crm:read'])).toBe(false);
    expect(allows([[]], [])).toBe(true);
    expect(allows([['a', 'b'], ['c']], new Set(['c']))).toBe(true);
    expect(allows([['a', 'b'], ['c']], ['a'])).toBe(false);
  });

  it('should combine requirements by distributing, dropping alternatives a smaller one already meets', () => {
    expect(both([['a'], ['b']], [['c']])).toEqual([
      ['a', 'c'],
      ['b', 'c'],
    ]);
    expect(both([['a'], ['a', 'b']], [[]])).toEqual([['a']]);
    expect(both(undefined, undefined)).toBeUndefined();
  });

  it('should describe a requirement in one sentence', () => {
    expect(describeRequirement([['crm:read', 'pii:read']])).toBe('crm:read and pii:read');
    expect(describeRequirement([['a', 'b'], ['c']])).toBe('(a and b) or c');
    expect(describeRequirement([[]])).toBe('an identified caller');
    expect(describeRequirement([])).toBe('a declaration in the schema (none found: nobody may read it)');
  });
});

describe('declarations at composition', () => {
  it('should list the fields of an SDL that declare nothing anywhere', () => {
    const sdl = parse(`${federation('["@key", "@requiresScopes", "@authenticated"]')}
      type Query { open: Note covered: Covered @authenticated }
      type Note { text: String }
      type Covered @requiresScopes(scopes: [["x"]]) { text: String }
    `);
    expect(undeclaredFields(sdl)).toEqual(['Query.open', 'Note.text']);
  });

  it('should refuse to compose a subgraph with an undeclared field, naming the file and the field', () => {
    const inputs = readSubgraphSchemas(process.cwd()).map((input) =>
      input.name === 'ads'
        ? { ...input, sdl: input.sdl.replace('type Query {', 'type Query {\n  unguarded: String\n') }
        : input,
    );
    const result = composeSupergraph(inputs);
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors).toEqual([
      'UNDECLARED_FIELD: [ads] schema/ads.graphql: Query.unguarded declares no @requiresScopes or @authenticated, on itself, its type or the type it returns; nobody could read it.',
    ]);
    expect(composeSupergraph(readSubgraphSchemas(process.cwd())).ok).toBe(true);
  });
});
