import {
  Kind,
  parse,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type TypeNode,
} from 'graphql';
import { z } from 'zod';

/**
 * Who may read what, read from `@requiresScopes` and `@authenticated` the one way both layers use:
 * the gateway on the composed supergraph, every subgraph on its own SDL. A requirement is in
 * disjunctive normal form, a list of alternatives each a set of scopes that must all be held:
 * `[["crm:read", "pii:read"], ["admin"]]`. `[[]]` (what `@authenticated` declares) admits any
 * identified caller; `[]` admits nobody. A field none of its parent type, its return type and
 * itself declares anything has no requirement (`undefined`), and both layers deny it: access is
 * declared, never assumed.
 */
export type Requirement = readonly (readonly string[])[];

/** What `@authenticated` declares: any identified caller. */
export const ANY_CALLER: Requirement = [[]];
/** No alternative at all: nobody (an empty `@requiresScopes(scopes: [])`, or an undeclared field). */
export const NOBODY: Requirement = [];

const SPEC_PREFIX = 'https://specs.apollo.dev/';

/** The local names of the directives these rules read, after the document's `@link` imports. */
export interface DirectiveNames {
  requiresScopes: ReadonlySet<string>;
  authenticated: ReadonlySet<string>;
  /** Subgraph `@key` (its fields are key fields). */
  key: ReadonlySet<string>;
  /** Supergraph `@join__type` (its `key` argument names each subgraph's key fields). */
  joinType: ReadonlySet<string>;
}

/** Which spec elements each spec provides, by the spec's name in its URL. */
const ELEMENTS: Record<string, readonly (keyof DirectiveNames)[]> = {
  federation: ['requiresScopes', 'authenticated', 'key'],
  requiresScopes: ['requiresScopes'],
  authenticated: ['authenticated'],
  join: ['joinType'],
};

/** The name an element has inside its spec. */
const ELEMENT_NAME: Record<keyof DirectiveNames, string> = {
  requiresScopes: 'requiresScopes',
  authenticated: 'authenticated',
  key: 'key',
  joinType: 'type',
};

const linkImport = z.union([z.string(), z.object({ name: z.string(), as: z.string().optional() })]);
const linkArguments = z.object({
  url: z.string(),
  as: z.string().optional(),
  import: z.array(linkImport).optional(),
});

function argumentsOf(directive: ConstDirectiveNode): Record<string, unknown> {
  return Object.fromEntries(
    (directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]),
  );
}

/**
 * The names the document's `@link`s give the directives, as the link spec defines them: an imported
 * element by its import name (or its `as`), the element named like its spec by the link's prefix
 * (`@requiresScopes`, or `@scopes` for `as: "scopes"`), any other by `prefix__element`. A document
 * without a federation link is Federation 1, where `@key` is `@key` and there are no scopes.
 */
export function directiveNames(schemaNodes: readonly DefinitionNode[]): DirectiveNames {
  const names: Record<keyof DirectiveNames, Set<string>> = {
    requiresScopes: new Set(),
    authenticated: new Set(),
    key: new Set(),
    joinType: new Set(),
  };
  let federationLinked = false;
  for (const node of schemaNodes) {
    if (node.kind !== Kind.SCHEMA_DEFINITION && node.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const directive of node.directives ?? []) {
      if (directive.name.value !== 'link') continue;
      const parsed = linkArguments.safeParse(argumentsOf(directive));
      if (!parsed.success || !parsed.data.url.startsWith(SPEC_PREFIX)) continue;
      // https://specs.apollo.dev/<name>/v<major>.<minor>
      const specName = parsed.data.url.slice(SPEC_PREFIX.length).split('/')[0] ?? '';
      const elements = ELEMENTS[specName];
      if (!elements) continue;
      if (specName === 'federation') federationLinked = true;
      const prefix = parsed.data.as ?? specName;
      for (const element of elements) {
        const inSpec = ELEMENT_NAME[element];
        const imported = (parsed.data.import ?? [])
          .map((i) => (typeof i === 'string' ? { name: i, as: undefined } : i))
          .find((i) => i.name === `@${inSpec}`);
        const local = imported
          ? (imported.as ?? imported.name).replace(/^@/, '')
          : inSpec === specName
            ? prefix
            : `${prefix}__${inSpec}`;
        names[element].add(local);
      }
    }
  }
  if (!federationLinked) names.key.add('key');
  return names;
}

const scopesArgument = z.union([z.string(), z.array(z.union([z.string(), z.array(z.string())]))]);

/**
 * `scopes: [[a, b], [c]]` with GraphQL's list coercion for `[[Scope!]!]!`: `"a"` is `[["a"]]` and
 * `["a", "b"]` is `[["a"], ["b"]]` (a or b). Anything else is a schema mistake, refused by name.
 */
export function scopesOf(directive: ConstDirectiveNode, where: string): Requirement {
  const argument = directive.arguments?.find((a) => a.name.value === 'scopes');
  const parsed = scopesArgument.safeParse(argument ? valueFromASTUntyped(argument.value) : undefined);
  if (!parsed.success) {
    throw new Error(
      `@${directive.name.value} on ${where} needs \`scopes\`: a list of lists of scope names, like [["crm:read"]].`,
    );
  }
  const value = parsed.data;
  if (typeof value === 'string') return [[value]];
  return value.map((group) => (typeof group === 'string' ? [group] : group));
}

/** Sorted, deduplicated, without an alternative that a smaller one already satisfies. */
export function normalise(requirement: Requirement): Requirement {
  const groups = requirement.map((group) => [...new Set(group)].sort());
  const kept = groups.filter(
    (group, i) =>
      !groups.some(
        (other, j) =>
          j !== i && other.every((scope) => group.includes(scope)) && (other.length < group.length || j < i),
      ),
  );
  // By code unit, so the order never depends on the server's locale.
  return kept.sort((a, b) => (a.join(' ') < b.join(' ') ? -1 : a.join(' ') > b.join(' ') ? 1 : 0));
}

/** Both requirements at once: each way of meeting one, combined with each way of meeting the other. */
export function both(a: Requirement | undefined, b: Requirement | undefined): Requirement | undefined {
  if (!a) return b && normalise(b);
  if (!b) return normalise(a);
  return normalise(a.flatMap((x) => b.map((y) => [...x, ...y])));
}

/** Whether `scopes` meet the requirement. An undeclared field (`undefined`) is met by nobody. */
export function allows(
  requirement: Requirement | undefined,
  scopes: ReadonlySet<string> | readonly string[],
): boolean {
  if (!requirement) return false;
  const has = (scope: string) =>
    scopes instanceof Set ? scopes.has(scope) : (scopes as readonly string[]).includes(scope);
  return requirement.some((alternative) => alternative.every(has));
}

/** `crm:read and pii:read`, `(a and b) or c`, for messages. */
export function describeRequirement(requirement: Requirement, anyCaller = 'an identified caller'): string {
  if (requirement.length === 0) return 'a declaration in the schema (none found: nobody may read it)';
  if (requirement.some((group) => group.length === 0)) return anyCaller;
  if (requirement.length === 1) return (requirement[0] ?? []).join(' and ');
  return requirement.map((group) => (group.length > 1 ? `(${group.join(' and ')})` : group[0])).join(' or ');
}

export interface Declarations {
  readonly names: DirectiveNames;
  /** What a type declares on itself (definition and extensions together). */
  type(name: string): Requirement | undefined;
  /** What one field, `Type.field`, declares on itself. */
  field(coordinate: string): Requirement | undefined;
  /**
   * What reading `parent.field` takes: its parent type's, its return type's and its own
   * declarations together (a type's requirement applies to its fields and to every field
   * returning it). `undefined` when none of the three declares anything: deny.
   */
  requirement(parent: string, field: string, returns: string): Requirement | undefined;
  /** Every `Type.field` a `@key` names (`@join__type(key:)` in a supergraph), nested fields included. */
  readonly keys: ReadonlySet<string>;
  /** Every type and coordinate with a declaration of its own. */
  readonly declared: ReadonlyMap<string, Requirement>;
}

const TYPE_KINDS = new Set<string>([
  Kind.OBJECT_TYPE_DEFINITION,
  Kind.OBJECT_TYPE_EXTENSION,
  Kind.INTERFACE_TYPE_DEFINITION,
  Kind.INTERFACE_TYPE_EXTENSION,
  Kind.SCALAR_TYPE_DEFINITION,
  Kind.SCALAR_TYPE_EXTENSION,
  Kind.ENUM_TYPE_DEFINITION,
  Kind.ENUM_TYPE_EXTENSION,
  Kind.UNION_TYPE_DEFINITION,
  Kind.UNION_TYPE_EXTENSION,
]);

interface TypeNodeLike {
  kind: string;
  name: { value: string };
  directives?: readonly ConstDirectiveNode[] | undefined;
  fields?: readonly FieldDefinitionNode[] | undefined;
}

export function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
}

/** `@key(fields: "id")`, `@join__type(key: "key since until")`: the field set's text, if any. */
function fieldSetOf(directive: ConstDirectiveNode, argument: string): string | undefined {
  const value = directive.arguments?.find((a) => a.name.value === argument)?.value;
  return value?.kind === Kind.STRING ? value.value : undefined;
}

/**
 * Reads every declaration of a schema document: a subgraph's SDL or the composed supergraph. Type
 * and field declarations are the AND of every `@requiresScopes`/`@authenticated` they carry, under
 * whatever names the document's `@link`s give those directives.
 */
export function readDeclarations(document: DocumentNode): Declarations {
  const names = directiveNames(document.definitions);
  const types = new Map<string, Requirement>();
  const fields = new Map<string, Requirement>();
  /** Field name -> named return type, per type, to follow nested key field sets. */
  const shapes = new Map<string, Map<string, string>>();
  const fieldSets: { type: string; fields: string }[] = [];

  const declaredOn = (directives: readonly ConstDirectiveNode[] | undefined, where: string) => {
    let requirement: Requirement | undefined;
    for (const directive of directives ?? []) {
      const name = directive.name.value;
      if (names.requiresScopes.has(name)) requirement = both(requirement, scopesOf(directive, where));
      else if (names.authenticated.has(name)) requirement = both(requirement, ANY_CALLER);
    }
    return requirement;
  };

  for (const definition of document.definitions) {
    if (!TYPE_KINDS.has(definition.kind)) continue;
    const type = definition as unknown as TypeNodeLike;
    const typeName = type.name.value;
    const own = declaredOn(type.directives, typeName);
    if (own) types.set(typeName, both(types.get(typeName), own) ?? own);
    for (const directive of type.directives ?? []) {
      const set = names.key.has(directive.name.value)
        ? fieldSetOf(directive, 'fields')
        : names.joinType.has(directive.name.value)
          ? fieldSetOf(directive, 'key')
          : undefined;
      if (set) fieldSets.push({ type: typeName, fields: set });
    }
    const shape = shapes.get(typeName) ?? new Map<string, string>();
    shapes.set(typeName, shape);
    for (const field of type.fields ?? []) {
      const coordinate = `${typeName}.${field.name.value}`;
      shape.set(field.name.value, namedTypeOf(field.type));
      const declared = declaredOn(field.directives, coordinate);
      if (declared) fields.set(coordinate, both(fields.get(coordinate), declared) ?? declared);
    }
  }

  const keys = new Set<string>();
  const walk = (typeName: string, selections: SelectionSetNode) => {
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        keys.add(`${typeName}.${selection.name.value}`);
        const returns = shapes.get(typeName)?.get(selection.name.value);
        if (selection.selectionSet && returns) walk(returns, selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.typeCondition?.name.value ?? typeName, selection.selectionSet);
      }
    }
  };
  for (const { type, fields: set } of fieldSets) {
    const operation = parse(`{ ${set} }`, { noLocation: true }).definitions[0];
    if (operation?.kind === Kind.OPERATION_DEFINITION) walk(type, operation.selectionSet);
  }

  return {
    names,
    type: (name) => types.get(name),
    field: (coordinate) => fields.get(coordinate),
    requirement: (parent, field, returns) =>
      both(both(types.get(parent), types.get(returns)), fields.get(`${parent}.${field}`)),
    keys,
    declared: new Map<string, Requirement>([...types, ...fields]),
  };
}

/**
 * The declarations of a built schema (a subgraph's, from `buildSubgraphSchema`), read from the SDL
 * nodes it was built from, so a subgraph interprets its directives exactly as the gateway does.
 */
export function readSchemaDeclarations(schema: GraphQLSchema): Declarations {
  const definitions: DefinitionNode[] = [];
  if (schema.astNode) definitions.push(schema.astNode);
  definitions.push(...schema.extensionASTNodes);
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.astNode) definitions.push(type.astNode);
    definitions.push(...type.extensionASTNodes);
  }
  return readDeclarations({ kind: Kind.DOCUMENT, definitions });
}

/**
 * Every object field of a subgraph SDL that declares nothing on itself, its type or its return
 * type: what composition refuses, so no field reaches the graph open at one layer and shut at the
 * other. Root types count like any other (a root field declares its own requirement).
 */
export function undeclaredFields(document: DocumentNode): string[] {
  const declarations = readDeclarations(document);
  const out: string[] = [];
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION &&
      definition.kind !== Kind.INTERFACE_TYPE_DEFINITION &&
      definition.kind !== Kind.INTERFACE_TYPE_EXTENSION
    )
      continue;
    for (const field of definition.fields ?? []) {
      const parent = definition.name.value;
      if (!declarations.requirement(parent, field.name.value, namedTypeOf(field.type)))
        out.push(`${parent}.${field.name.value}`);
    }
  }
  return out;
}
