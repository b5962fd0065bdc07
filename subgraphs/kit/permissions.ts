import {
  defaultFieldResolver,
  getNamedType,
  GraphQLError,
  isIntrospectionType,
  isObjectType,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { deny, rule, shield, type IRules } from 'graphql-shield';
import {
  allows,
  ANY_CALLER,
  both,
  describeRequirement,
  normalise,
  NOBODY,
  readSchemaDeclarations,
  type Requirement,
} from '../../lib/auth/requirements.js';
import { ErrorCode, publicErrorCodes } from '../../lib/errors.js';
import type { Caller } from '../../lib/auth/gateway-token.js';
import type { SubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { SubgraphContext } from './context.js';
import { subgraphMetrics } from './metrics.js';

/** How a subgraph names `@authenticated`'s requirement: only the gateway's token identifies a caller here. */
const TOKEN = 'a valid gateway token';

/** Why a field has the requirement it has. */
export type PermissionSource =
  /** The AND of `@requiresScopes`/`@authenticated` on the parent type, the return type and the field. */
  | 'directives'
  /** Federation's own `_service` and `_entities`: any valid gateway token. */
  | 'federation'
  /** No directive anywhere: nobody may read it (fail closed; composition refuses such a field). */
  | 'undeclared';

export interface FieldPermission {
  /** `Type.field`. */
  coordinate: string;
  source: PermissionSource;
  requirement: Requirement;
  /**
   * For a key field that needs more than its type (`Customer.email` needs `pii:read`): what it
   * needs when the gateway token lists it as `planned`, added by the query planner to this fetch
   * to join an entity, not asked for by the client. The type's requirement, as for `_entities`.
   */
  whenPlanned?: Requirement;
}

/** One rule of the tree (the package exports the tree's type, not the rule's). */
type ShieldRule = Extract<IRules, { resolve: unknown }>;

/** Federation's own entry points, which only the gateway calls. */
function federationCoordinates(schema: GraphQLSchema): Set<string> {
  const query = schema.getQueryType()?.name ?? 'Query';
  return new Set([`${query}._service`, `${query}._entities`, '_Service.sdl']);
}

const sameRequirement = (a: Requirement | undefined, b: Requirement | undefined) =>
  a !== undefined && b !== undefined && JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));

/**
 * Every field's requirement, read from the subgraph's own SDL with the module the gateway reads
 * the supergraph with (`lib/auth/requirements.ts`): the AND of the parent type's, the return
 * type's and the field's `@requiresScopes`/`@authenticated`, under whatever names the SDL's
 * `@link` imports give them. A key field needs what it declares, like any other; only a fetch
 * whose gateway token lists it as `planned` (the query planner's join) may read it with its type's
 * requirement alone.
 */
export function fieldPermissions(schema: GraphQLSchema): ReadonlyMap<string, FieldPermission> {
  const declarations = readSchemaDeclarations(schema);
  const federation = federationCoordinates(schema);
  const out = new Map<string, FieldPermission>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const returns = getNamedType(field.type).name;
      const declared = declarations.requirement(type.name, field.name, returns);
      if (federation.has(coordinate) && !declared) {
        out.set(coordinate, { coordinate, source: 'federation', requirement: ANY_CALLER });
      } else if (declared) {
        const typeOnly = both(declarations.type(type.name), declarations.type(returns)) ?? ANY_CALLER;
        const relaxed =
          declarations.keys.has(coordinate) && !sameRequirement(typeOnly, declared) ? typeOnly : undefined;
        out.set(coordinate, {
          coordinate,
          source: 'directives',
          requirement: declared,
          ...(relaxed ? { whenPlanned: relaxed } : {}),
        });
      } else {
        out.set(coordinate, { coordinate, source: 'undeclared', requirement: NOBODY });
      }
    }
  }
  return out;
}

/** What a field's rule decides from the caller alone (nothing about the parent or arguments). */
type Decision = (caller: Caller | undefined) => boolean;

function decisionOf(permission: FieldPermission): Decision {
  const { requirement, whenPlanned, coordinate } = permission;
  return (caller) => {
    if (!caller) return false;
    if (allows(requirement, caller.scopes)) return true;
    return (
      whenPlanned !== undefined &&
      caller.planned?.has(coordinate) === true &&
      allows(whenPlanned, caller.scopes)
    );
  };
}

/** A rule's name: the same requirement is one rule (and one cache entry per request in shield). */
function ruleName(permission: FieldPermission): string {
  const { requirement, whenPlanned, coordinate } = permission;
  return whenPlanned
    ? `key ${coordinate} ${JSON.stringify(requirement)} planned ${JSON.stringify(whenPlanned)}`
    : `scopes ${JSON.stringify(requirement)}`;
}

/**
 * The graphql-shield rule tree: one rule per distinct requirement, cached per request
 * ('contextual'), so a page of 500 customers checks each requirement once, not once per field.
 */
function ruleTree(schema: GraphQLSchema, permissions: ReadonlyMap<string, FieldPermission>): IRules {
  const rules = new Map<string, ShieldRule>();
  const ruleFor = (permission: FieldPermission): ShieldRule => {
    if (permission.requirement.length === 0) return deny;
    const name = ruleName(permission);
    let found = rules.get(name);
    if (!found) {
      const decide = decisionOf(permission);
      found = rule(name, { cache: 'contextual' })(
        (_parent: unknown, _args: unknown, context: Partial<SubgraphContext> | undefined) =>
          decide(context?.caller),
      );
      rules.set(name, found);
    }
    return found;
  };
  const tree: Record<string, Record<string, ShieldRule>> = {};
  const query = schema.getQueryType()?.name ?? 'Query';
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    tree[type.name] = Object.fromEntries(
      Object.keys(type.getFields()).map((field) => {
        if (type.name === query && field === '_entities') return [field, entitiesRule(schema)];
        const permission = permissions.get(`${type.name}.${field}`);
        return [field, permission ? ruleFor(permission) : deny];
      }),
    );
  }
  return tree;
}

function forbidden(
  subgraph: SubgraphName,
  permissions: ReadonlyMap<string, FieldPermission>,
  parentType: GraphQLObjectType,
  fieldName: string,
): GraphQLError {
  const coordinate = `${parentType.name}.${fieldName}`;
  const requirement = permissions.get(coordinate)?.requirement ?? NOBODY;
  subgraphMetrics.deniedFields.inc({ subgraph, field: coordinate });
  return new GraphQLError(
    `Not authorized to read ${coordinate}: requires ${describeRequirement(requirement, TOKEN)}`,
    {
      extensions: { code: ErrorCode.FORBIDDEN, requiredScopes: requirement },
    },
  );
}

/**
 * What shield returns in place of a field: a FORBIDDEN error when a rule said no; for an error a
 * resolver threw (shield catches those too), the error itself when it carries a public code (an
 * upstream or input error the caller should see), else a masked INTERNAL_SERVER_ERROR that keeps
 * the original for the kit's error log.
 */
function fallbackErrorFor(
  subgraph: SubgraphName,
  permissions: ReadonlyMap<string, FieldPermission>,
  schema: GraphQLSchema,
) {
  const typeRequirement = typeRequirements(schema);
  return (
    thrown: unknown,
    _parent: object,
    args: object,
    _context: object,
    info: GraphQLResolveInfo,
  ): Error => {
    if ((thrown === null || thrown === undefined) && info.fieldName === '_entities') {
      // Name what the representations' types need, not the token check every caller passes.
      const needed =
        representationTypes(args)
          .map((name) => typeRequirement.get(name) ?? NOBODY)
          .reduce<Requirement | undefined>((all, one) => both(all, one), undefined) ?? NOBODY;
      subgraphMetrics.deniedFields.inc({ subgraph, field: `${info.parentType.name}._entities` });
      return new GraphQLError(
        `Not authorized to read ${info.parentType.name}._entities: requires ${describeRequirement(needed, TOKEN)}`,
        {
          extensions: { code: ErrorCode.FORBIDDEN, requiredScopes: needed },
        },
      );
    }
    if (thrown === null || thrown === undefined) {
      return forbidden(subgraph, permissions, info.parentType, info.fieldName);
    }
    if (thrown instanceof GraphQLError) {
      const code = thrown.extensions['code'];
      if (typeof code === 'string' && publicErrorCodes.has(code)) return thrown;
    }
    return new GraphQLError('Internal server error', {
      originalError: thrown instanceof Error ? thrown : new Error(String(thrown)),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    });
  };
}

export interface ProtectedSchema {
  schema: GraphQLSchema;
  permissions: ReadonlyMap<string, FieldPermission>;
  /** Fields whose check is already made where their object is reached (see `impliedFields`). */
  implied: ReadonlySet<string>;
}

/**
 * Fields that need nothing beyond their parent type's own requirement. An object of that type is
 * only ever reached through a field returning it, whose rule already includes the type's
 * requirement, or through `_entities`, whose rule checks each representation's type (below). So
 * shield decides at the fields that return objects and at fields declaring something of their own;
 * wrapping the others in middleware as well would decide nothing new and costs, on a page of 500
 * customers, thousands of promises per request.
 */
function impliedFields(
  schema: GraphQLSchema,
  permissions: ReadonlyMap<string, FieldPermission>,
): Set<string> {
  const declarations = readSchemaDeclarations(schema);
  const out = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    const own = declarations.type(type.name);
    for (const field of Object.keys(type.getFields())) {
      const permission = permissions.get(`${type.name}.${field}`);
      if (permission?.source === 'directives' && sameRequirement(permission.requirement, own)) {
        out.add(permission.coordinate);
      }
    }
  }
  return out;
}

/** The requirement each object type declares on itself. */
function typeRequirements(schema: GraphQLSchema): Map<string, Requirement | undefined> {
  const declarations = readSchemaDeclarations(schema);
  const out = new Map<string, Requirement | undefined>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type) && !isIntrospectionType(type)) out.set(type.name, declarations.type(type.name));
  }
  return out;
}

/** The types of `_entities` representations, for its rule and its error. */
function representationTypes(args: unknown): string[] {
  const representations =
    (args as { representations?: { __typename?: unknown }[] } | undefined)?.representations ?? [];
  return [...new Set(representations.map((r) => (typeof r.__typename === 'string' ? r.__typename : '')))];
}

/**
 * `_entities` is how the gateway reaches an entity without a field returning its type, so its rule
 * checks the type requirement of every representation asked for.
 */
function entitiesRule(schema: GraphQLSchema): ShieldRule {
  const typeRequirement = typeRequirements(schema);
  // Evaluated once per `_entities` call; 'strict' caching would hash every representation to find out.
  return rule('entities by representation type', { cache: 'no_cache' })(
    (
      _parent: unknown,
      args: { representations?: { __typename?: unknown }[] },
      context: Partial<SubgraphContext> | undefined,
    ) => {
      const caller = context?.caller;
      if (!caller) return false;
      return representationTypes(args).every((name) => {
        if (!typeRequirement.has(name)) return false;
        const requirement = typeRequirement.get(name);
        return requirement === undefined || allows(requirement, caller.scopes);
      });
    },
  );
}

/**
 * Wraps every field of a subgraph schema (as `buildSubgraphSchema` built it) in the permission its
 * SDL declares. `__resolveReference` keeps working (it lives in the types' extensions, which the
 * middleware copies), and a denied field inside `_entities` is null with a FORBIDDEN error at its
 * path while the other entities resolve.
 */
export function applyFieldPermissions(subgraph: SubgraphName, schema: GraphQLSchema): ProtectedSchema {
  const permissions = fieldPermissions(schema);
  const fallbackError = fallbackErrorFor(subgraph, permissions, schema);
  const middleware = shield(ruleTree(schema, permissions), {
    fallbackRule: deny,
    allowExternalErrors: false,
    fallbackError,
  });
  const protectedSchema = applyMiddleware(schema, middleware);
  const implied = impliedFields(schema, permissions);
  const query = schema.getQueryType()?.name ?? 'Query';
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const [fieldName, original] of Object.entries(type.getFields())) {
      const coordinate = `${type.name}.${fieldName}`;
      const wrapped = (protectedSchema.getType(type.name) as GraphQLObjectType).getFields()[fieldName];
      if (!wrapped) continue;
      if (implied.has(coordinate)) {
        // Back to the resolver the field had before shield wrapped it (undefined = the default one).
        if (original.resolve) wrapped.resolve = original.resolve;
        else delete (wrapped as { resolve?: unknown }).resolve;
        continue;
      }
      const permission = permissions.get(coordinate);
      // `_entities` decides per representation, and a field nobody may read has nothing to memoise.
      if (!permission || permission.requirement.length === 0) continue;
      if (type.name === query && fieldName === '_entities') continue;
      wrapped.resolve = decidedOncePerOperation(
        coordinate,
        decisionOf(permission),
        original.resolve ?? defaultFieldResolver,
        wrapped.resolve ?? defaultFieldResolver,
        fallbackError,
      );
    }
  }
  return { schema: protectedSchema, permissions, implied };
}

/** One request's permission decisions by field coordinate, and how many times a rule was evaluated. */
export interface PermissionDecisions {
  decided: Map<string, boolean>;
  evaluations: number;
}

/** Keyed by the request's context: the context is the request's, and so are the caller's scopes. */
const decisions = new WeakMap<object, PermissionDecisions>();

/** What a request decided so far (tests check each field is decided once per operation). */
export function permissionDecisions(context: object): PermissionDecisions | undefined {
  return decisions.get(context);
}

type Resolver = GraphQLFieldResolver<unknown, unknown>;

/**
 * A field's permission decided once per (type, field, caller's scopes) per operation rather than
 * at every instance: shield's middleware awaits its rule and the resolver for each of the 500
 * customers of a page, which costs promises and microtask turns even with its rule cache. An
 * allowed field runs its own resolver at once (its errors masked as shield masks them); a denied
 * one still goes through shield, which answers FORBIDDEN.
 */
function decidedOncePerOperation(
  coordinate: string,
  decide: Decision,
  resolve: Resolver,
  shielded: Resolver,
  fallbackError: ReturnType<typeof fallbackErrorFor>,
): Resolver {
  return (parent, args, context, info) => {
    if (context === null || typeof context !== 'object') return shielded(parent, args, context, info);
    let memo = decisions.get(context);
    if (!memo) {
      memo = { decided: new Map(), evaluations: 0 };
      decisions.set(context, memo);
    }
    let allowed = memo.decided.get(coordinate);
    if (allowed === undefined) {
      allowed = decide((context as Partial<SubgraphContext>).caller);
      memo.evaluations += 1;
      memo.decided.set(coordinate, allowed);
    }
    if (!allowed) return shielded(parent, args, context, info);
    const masked = (thrown: unknown) =>
      fallbackError(thrown, parent as object, args as object, context, info);
    try {
      const result = resolve(parent, args, context, info);
      return isPromiseLike(result) ? Promise.resolve(result).then(undefined, masked) : result;
    } catch (thrown) {
      return masked(thrown);
    }
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
