import {
  getNamedType,
  GraphQLError,
  isIntrospectionType,
  isObjectType,
  Kind,
  parse,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { allow, deny, rule, shield, type IRules } from 'graphql-shield';
import { z } from 'zod';
import { ErrorCode, publicErrorCodes } from '../../lib/errors.js';
import type { SubgraphName } from '../../lib/graphql/subgraph-names.js';
import type { SubgraphContext } from './context.js';
import { subgraphMetrics } from './metrics.js';

/**
 * What a caller needs to read a field, in disjunctive normal form: every scope of at least one
 * inner list. `[[]]` admits any caller with a valid gateway token; `[]` admits nobody.
 */
export type ScopeRequirement = readonly (readonly string[])[];

/** Why a field has the requirement it has. */
export type PermissionSource =
  /** The AND of `@requiresScopes`/`@authenticated` on the parent type, the return type and the field. */
  | 'directives'
  /** A field of one of this subgraph's `@key`s: any valid gateway token. */
  | 'key'
  /** Federation's own `_service` and `_entities`: any valid gateway token. */
  | 'federation'
  /** Named in `publicFields`: no check beyond the kit's gateway token. */
  | 'public'
  /** No directive anywhere and not public: nobody may read it (fail closed). */
  | 'undeclared';

export interface FieldPermission {
  /** `Type.field`. */
  coordinate: string;
  source: PermissionSource;
  /** Null for a public field. */
  requirement: ScopeRequirement | null;
}

export interface FieldPermissionOptions {
  /**
   * Fields anyone may read, as `Type.field`. A field is public only when it is listed here and
   * neither it, its parent type nor its return type declares a requirement; listing a field that
   * does is a contradiction and fails the build. Nothing in the graph is public today.
   * @default []
   */
  publicFields?: readonly string[];
}

/** One rule of the tree (the package exports the tree's type, not the rule's). */
type ShieldRule = Extract<IRules, { resolve: unknown }>;

const ANY_VALID_TOKEN: ScopeRequirement = [[]];
const NOBODY: ScopeRequirement = [];

/**
 * The directive names the SDLs use. They are imported from the Federation spec by name, so the
 * prefixed form is the only other spelling; a renamed import would leave fields undeclared, which
 * denies them (fail closed) rather than opening them.
 */
const REQUIRES_SCOPES = new Set(['requiresScopes', 'federation__requiresScopes']);
const AUTHENTICATED = new Set(['authenticated', 'federation__authenticated']);
const KEY = new Set(['key', 'federation__key']);

const scopesArgument = z.union([z.string(), z.array(z.union([z.string(), z.array(z.string())]))]);

/** `[[a, b], [c]]`, with GraphQL's list coercion: `"a"` is `[["a"]]` and `["a", "b"]` is `[["a"], ["b"]]`. */
function scopesOf(directive: ConstDirectiveNode, where: string): ScopeRequirement {
  const argument = directive.arguments?.find((a) => a.name.value === 'scopes');
  const parsed = scopesArgument.safeParse(argument ? valueFromASTUntyped(argument.value) : undefined);
  if (!parsed.success)
    throw new Error(`@requiresScopes on ${where} needs \`scopes\`: a list of lists of scopes`);
  const value = parsed.data;
  if (typeof value === 'string') return [[value]];
  return value.map((group) => (typeof group === 'string' ? [group] : group));
}

/** Sorted, deduplicated, without any conjunction that a smaller one already satisfies. */
function normalise(requirement: ScopeRequirement): ScopeRequirement {
  const groups = requirement.map((group) => [...new Set(group)].sort());
  const kept = groups.filter(
    (group, i) =>
      !groups.some(
        (other, j) =>
          j !== i && other.every((scope) => group.includes(scope)) && (other.length < group.length || j < i),
      ),
  );
  // By code unit, so rule names never depend on the server's locale.
  return kept.sort((a, b) => (a.join(' ') < b.join(' ') ? -1 : a.join(' ') > b.join(' ') ? 1 : 0));
}

/** Both requirements at once: each way of meeting one, combined with each way of meeting the other. */
function both(a: ScopeRequirement, b: ScopeRequirement): ScopeRequirement {
  return normalise(a.flatMap((x) => b.map((y) => [...x, ...y])));
}

function allOf(requirements: readonly (ScopeRequirement | undefined)[]): ScopeRequirement | undefined {
  let out: ScopeRequirement | undefined;
  for (const r of requirements) if (r) out = out ? both(out, r) : normalise(r);
  return out;
}

type WithDirectives = {
  readonly astNode?: { readonly directives?: readonly ConstDirectiveNode[] | undefined } | null | undefined;
  readonly extensionASTNodes?: readonly { readonly directives?: readonly ConstDirectiveNode[] | undefined }[];
};

function directivesOf(element: WithDirectives): ConstDirectiveNode[] {
  return [element.astNode, ...(element.extensionASTNodes ?? [])].flatMap((n) => n?.directives ?? []);
}

/** The AND of the `@requiresScopes` and `@authenticated` an element carries; undefined when none. */
function declaredOn(element: WithDirectives, where: string): ScopeRequirement | undefined {
  const found = directivesOf(element).flatMap((d) => {
    if (REQUIRES_SCOPES.has(d.name.value)) return [scopesOf(d, where)];
    if (AUTHENTICATED.has(d.name.value)) return [ANY_VALID_TOKEN];
    return [];
  });
  return allOf(found);
}

/** Every `Type.field` the `@key`s of this subgraph's entities name, nested selections included. */
function keyFieldCoordinates(schema: GraphQLSchema): Set<string> {
  const out = new Set<string>();
  const walk = (type: GraphQLNamedType, selections: SelectionSetNode) => {
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD && isObjectType(type)) {
        const field = type.getFields()[selection.name.value];
        if (!field) continue;
        out.add(`${type.name}.${field.name}`);
        if (selection.selectionSet) walk(getNamedType(field.type), selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const narrowed = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        if (narrowed) walk(narrowed, selection.selectionSet);
      }
    }
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const directive of directivesOf(type)) {
      if (!KEY.has(directive.name.value)) continue;
      const fields = directive.arguments?.find((a) => a.name.value === 'fields')?.value;
      if (fields?.kind !== Kind.STRING) continue;
      const document = parse(`{ ${fields.value} }`);
      const operation = document.definitions[0];
      if (operation?.kind === Kind.OPERATION_DEFINITION) walk(type, operation.selectionSet);
    }
  }
  return out;
}

/** Federation's own entry points, which only the gateway calls. */
function federationCoordinates(schema: GraphQLSchema): Set<string> {
  const query = schema.getQueryType()?.name ?? 'Query';
  return new Set([`${query}._service`, `${query}._entities`, '_Service.sdl']);
}

/**
 * Every field's requirement, read from the subgraph's own SDL directives: the AND of the parent
 * type's, the return type's and the field's `@requiresScopes`/`@authenticated`.
 *
 * Key fields are readable with any valid gateway token, whatever they declare: the query planner
 * adds them to fetches to join an entity across subgraphs (`Customer.email` is how `email` and
 * `commerce` find a customer), whether or not the client asked for them or may see them. The
 * gateway has already removed them from a client's operation when the client may not see them, so
 * what a subgraph returns for a key only ever reaches the gateway.
 */
export function fieldPermissions(
  schema: GraphQLSchema,
  options: FieldPermissionOptions = {},
): ReadonlyMap<string, FieldPermission> {
  const keys = keyFieldCoordinates(schema);
  const federation = federationCoordinates(schema);
  const publicFields = new Set(options.publicFields ?? []);
  const out = new Map<string, FieldPermission>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const coordinate = `${type.name}.${field.name}`;
      const returnType = getNamedType(field.type);
      const declared = allOf([
        declaredOn(type, type.name),
        declaredOn(returnType, returnType.name),
        declaredOn(field, coordinate),
      ]);
      if (publicFields.has(coordinate)) {
        if (declared) {
          throw new Error(
            `${coordinate} is listed as public but declares a requirement (${describeRequirement(declared)}); remove one of the two.`,
          );
        }
        out.set(coordinate, { coordinate, source: 'public', requirement: null });
      } else if (keys.has(coordinate)) {
        out.set(coordinate, { coordinate, source: 'key', requirement: ANY_VALID_TOKEN });
      } else if (federation.has(coordinate) && !declared) {
        out.set(coordinate, { coordinate, source: 'federation', requirement: ANY_VALID_TOKEN });
      } else if (declared) {
        out.set(coordinate, { coordinate, source: 'directives', requirement: declared });
      } else {
        out.set(coordinate, { coordinate, source: 'undeclared', requirement: NOBODY });
      }
    }
  }
  for (const coordinate of publicFields) {
    if (!out.has(coordinate)) throw new Error(`${coordinate} is listed as public but is not in the schema.`);
  }
  return out;
}

export function satisfies(requirement: ScopeRequirement, scopes: readonly string[]): boolean {
  return requirement.some((group) => group.every((scope) => scopes.includes(scope)));
}

/** `crm:read and pii:read`, `(a and b) or c`, for messages. */
export function describeRequirement(requirement: ScopeRequirement): string {
  if (requirement.length === 0) return 'a permission no directive grants';
  if (requirement.some((group) => group.length === 0)) return 'a valid gateway token';
  if (requirement.length === 1) return (requirement[0] ?? []).join(' and ');
  return requirement.map((group) => (group.length > 1 ? `(${group.join(' and ')})` : group[0])).join(' or ');
}

/**
 * The graphql-shield rule tree: one rule per distinct requirement, cached per request
 * ('contextual'), so a page of 500 customers checks each requirement once, not once per field.
 */
function ruleTree(schema: GraphQLSchema, permissions: ReadonlyMap<string, FieldPermission>): IRules {
  const rules = new Map<string, ShieldRule>();
  const ruleFor = (requirement: ScopeRequirement | null): ShieldRule => {
    if (requirement === null) return allow;
    if (requirement.length === 0) return deny;
    const name = `scopes ${JSON.stringify(requirement)}`;
    let found = rules.get(name);
    if (!found) {
      found = rule(name, { cache: 'contextual' })(
        (_parent: unknown, _args: unknown, context: Partial<SubgraphContext> | undefined) =>
          context?.caller !== undefined && satisfies(requirement, context.caller.scopes),
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
        return [field, permission ? ruleFor(permission.requirement) : deny];
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
    `Not authorized to read ${coordinate}: requires ${describeRequirement(requirement)}`,
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
        allOf(representationTypes(args).map((name) => typeRequirement.get(name) ?? NOBODY)) ?? NOBODY;
      subgraphMetrics.deniedFields.inc({ subgraph, field: `${info.parentType.name}._entities` });
      return new GraphQLError(
        `Not authorized to read ${info.parentType.name}._entities: requires ${describeRequirement(needed)}`,
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

const sameRequirement = (a: ScopeRequirement | undefined, b: ScopeRequirement | undefined) =>
  a !== undefined && b !== undefined && JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));

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
  const out = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    const own = declaredOn(type, type.name);
    for (const field of Object.keys(type.getFields())) {
      const permission = permissions.get(`${type.name}.${field}`);
      if (permission?.source === 'directives' && sameRequirement(permission.requirement ?? undefined, own)) {
        out.add(permission.coordinate);
      }
    }
  }
  return out;
}

/** The requirement each object type declares on itself. */
function typeRequirements(schema: GraphQLSchema): Map<string, ScopeRequirement | undefined> {
  const out = new Map<string, ScopeRequirement | undefined>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type) && !isIntrospectionType(type)) out.set(type.name, declaredOn(type, type.name));
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
        return requirement === undefined || satisfies(requirement, caller.scopes);
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
export function applyFieldPermissions(
  subgraph: SubgraphName,
  schema: GraphQLSchema,
  options: FieldPermissionOptions = {},
): ProtectedSchema {
  const permissions = fieldPermissions(schema, options);
  const middleware = shield(ruleTree(schema, permissions), {
    fallbackRule: deny,
    allowExternalErrors: false,
    fallbackError: fallbackErrorFor(subgraph, permissions, schema),
  });
  const protectedSchema = applyMiddleware(schema, middleware);
  const implied = impliedFields(schema, permissions);
  for (const coordinate of implied) {
    const [typeName = '', fieldName = ''] = coordinate.split('.');
    const original = (schema.getType(typeName) as GraphQLObjectType).getFields()[fieldName];
    const wrapped = (protectedSchema.getType(typeName) as GraphQLObjectType).getFields()[fieldName];
    // Back to the resolver the field had before shield wrapped it (undefined = the default one).
    if (original && wrapped && original.resolve) wrapped.resolve = original.resolve;
    else if (wrapped) delete (wrapped as { resolve?: unknown }).resolve;
  }
  return { schema: protectedSchema, permissions, implied };
}
