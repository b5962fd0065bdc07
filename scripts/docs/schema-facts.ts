import {
  getNamedType,
  isEnumType,
  isObjectType,
  Kind,
  parse,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type GraphQLSchema,
  type ObjectTypeDefinitionNode,
  type ObjectTypeExtensionNode,
} from 'graphql';
import type { Declarations, Requirement } from '../../lib/auth/requirements.js';
import type { SubgraphName } from '../../lib/graphql/subgraph-names.js';

/**
 * What the SDLs say about one subgraph, for the data-flow document: the entry points it serves,
 * the fields it is the system of record for, the entities it joins by key, with each field's
 * permission scopes (from the supergraph, as the gateway enforces them) and response-cache hint
 * (from the subgraph's own `@cacheControl`).
 */

export type FlowKind = 'on-demand query' | 'batch read' | 'real-time subscription' | 'on-demand command';

export interface FieldFact {
  /** `Type.field`. */
  coordinate: string;
  /** The field's type as printed in the API schema. */
  type: string;
  description: string;
  /** Scope sets any one of which reads the field; `[]` inside means "any identified caller". */
  requirement: Requirement | undefined;
  /** Response-cache hint: `300 s`, `inherits`, with `, private` for per-client entries. */
  cache: string;
  /** The deprecation reason, when the field is being retired. */
  deprecated?: string;
}

export interface EntryPoint extends FieldFact {
  kind: FlowKind;
}

export interface Join {
  type: string;
  /** The key field sets this subgraph resolves the type by. */
  keys: string[];
  /** Fields this subgraph adds to the entity, and how they are read. */
  kind: FlowKind;
}

export interface SubgraphFacts {
  name: SubgraphName;
  entryPoints: EntryPoint[];
  /** Fields this subgraph resolves from its own platform: it is their system of record. */
  owned: FieldFact[];
  /** Entities owned elsewhere that this subgraph extends, joined by key. */
  joins: Join[];
  /** Value types several subgraphs define alike (`@shareable`). */
  shared: string[];
  /** Enums this subgraph defines, with their values. */
  enums: { name: string; values: string[] }[];
}

type ObjectNode = ObjectTypeDefinitionNode | ObjectTypeExtensionNode;

const ROOTS: Record<string, FlowKind> = {
  Query: 'on-demand query',
  Mutation: 'on-demand command',
  Subscription: 'real-time subscription',
};

/** Arguments of a field that reads a date range: such fields read the platform's report for the range. */
const RANGE_ARGUMENTS = ['since', 'until'];

const directives = (node: { directives?: readonly ConstDirectiveNode[] | undefined }, name: string) =>
  (node.directives ?? []).filter((d) => d.name.value === name);

function argument(directive: ConstDirectiveNode, name: string): string | boolean | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  if (!value) return undefined;
  if (value.kind === Kind.STRING || value.kind === Kind.ENUM || value.kind === Kind.INT) return value.value;
  if (value.kind === Kind.BOOLEAN) return value.value;
  return undefined;
}

function cacheHint(type: ObjectNode, field: FieldDefinitionNode): string {
  const typeHint = directives(type, 'cacheControl')[0];
  const fieldHint = directives(field, 'cacheControl')[0];
  const maxAge = (fieldHint && argument(fieldHint, 'maxAge')) ?? (typeHint && argument(typeHint, 'maxAge'));
  const inherits =
    (fieldHint && argument(fieldHint, 'inheritMaxAge')) ?? (typeHint && argument(typeHint, 'inheritMaxAge'));
  const scope = (fieldHint && argument(fieldHint, 'scope')) ?? (typeHint && argument(typeHint, 'scope'));
  const age = maxAge !== undefined ? `${String(maxAge)} s` : inherits === true ? 'inherits' : 'not cached';
  return scope === 'PRIVATE' ? `${age}, private` : age;
}

function keyFields(type: ObjectNode): { keys: string[]; fields: Set<string>; resolvable: boolean } {
  const keys = directives(type, 'key');
  const fieldSets = keys.map((key) => String(argument(key, 'fields') ?? ''));
  return {
    keys: fieldSets,
    fields: new Set(fieldSets.flatMap((set) => set.split(/[\s{}]+/).filter(Boolean))),
    resolvable: keys.some((key) => argument(key, 'resolvable') !== false),
  };
}

/**
 * The facts of one subgraph. `apiSchema` and `declarations` come from the committed supergraph, so types,
 * descriptions, deprecations and scopes are the ones clients see and the gateway enforces.
 */
export function subgraphFacts(
  name: SubgraphName,
  sdl: string | DocumentNode,
  apiSchema: GraphQLSchema,
  declarations: Declarations,
): SubgraphFacts {
  const document = typeof sdl === 'string' ? parse(sdl) : sdl;
  const objects = document.definitions.filter(
    (d): d is ObjectNode => d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION,
  );
  // A subgraph owns an entity's key fields when it serves the entity from a root field itself.
  const servedFromRoot = new Set<string>();
  for (const object of objects) {
    const rootType = ROOTS[object.name.value] ? apiSchema.getType(object.name.value) : undefined;
    if (!isObjectType(rootType)) continue;
    for (const field of object.fields ?? []) {
      const apiField = rootType.getFields()[field.name.value];
      if (apiField) servedFromRoot.add(getNamedType(apiField.type).name);
    }
  }

  const fact = (type: ObjectNode, field: FieldDefinitionNode): FieldFact | undefined => {
    const apiType = apiSchema.getType(type.name.value);
    if (!isObjectType(apiType)) return undefined;
    const apiField = apiType.getFields()[field.name.value];
    // Not in the API schema: @inaccessible, or a federation-only field.
    if (!apiField) return undefined;
    const returns = getNamedType(apiField.type).name;
    const requirement = declarations.requirement(type.name.value, field.name.value, returns);
    return {
      coordinate: `${type.name.value}.${field.name.value}`,
      type: String(apiField.type),
      description: apiField.description ?? '',
      requirement,
      cache: cacheHint(type, field),
      ...(apiField.deprecationReason ? { deprecated: apiField.deprecationReason } : {}),
    };
  };

  const entryPoints: EntryPoint[] = [];
  const owned: FieldFact[] = [];
  const joins: Join[] = [];
  const shared: string[] = [];
  for (const type of objects) {
    const rootKind = ROOTS[type.name.value];
    if (rootKind) {
      for (const field of type.fields ?? []) {
        const found = fact(type, field);
        if (!found) continue;
        const readsRange = RANGE_ARGUMENTS.every((arg) => field.arguments?.some((a) => a.name.value === arg));
        entryPoints.push({
          ...found,
          kind: rootKind === 'on-demand query' && readsRange ? 'batch read' : rootKind,
        });
      }
      continue;
    }
    if (directives(type, 'inaccessible').length > 0) continue;
    if (directives(type, 'shareable').length > 0 && directives(type, 'key').length === 0) {
      shared.push(type.name.value);
      continue;
    }
    const key = keyFields(type);
    if (key.keys.length > 0 && !key.resolvable) continue; // a reference only, resolved elsewhere
    const ownsKeys = key.keys.length === 0 || servedFromRoot.has(type.name.value);
    const added: FieldFact[] = [];
    for (const field of type.fields ?? []) {
      if (directives(field, 'external').length > 0) continue;
      if (key.fields.has(field.name.value) && !ownsKeys) continue;
      const found = fact(type, field);
      if (found) added.push(found);
    }
    owned.push(...added);
    if (!ownsKeys && added.length > 0)
      joins.push({
        type: type.name.value,
        keys: key.keys,
        kind: RANGE_ARGUMENTS.every((arg) => key.fields.has(arg)) ? 'batch read' : 'on-demand query',
      });
  }

  const enums = document.definitions.flatMap((d) => {
    if (d.kind !== Kind.ENUM_TYPE_DEFINITION || directives(d, 'inaccessible').length > 0) return [];
    const apiEnum = apiSchema.getType(d.name.value);
    return isEnumType(apiEnum)
      ? [{ name: d.name.value, values: apiEnum.getValues().map((v) => v.name) }]
      : [];
  });

  return { name, entryPoints, owned, joins, shared, enums };
}
