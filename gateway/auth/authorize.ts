import {
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  isIntrospectionType,
  isUnionType,
  Kind,
  print,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { allows, NOBODY, type Declarations, type Requirement } from '../../lib/auth/requirements.js';

/** A field taken out of an operation because the caller may not read it. */
export interface Removal {
  /** Response path; `@` stands for every element of a list. */
  path: readonly string[];
  coordinate: string;
  required: Requirement;
}

export type AuthorizationPlan =
  /** Nothing to remove: run the operation as sent. */
  | { kind: 'unchanged' }
  /** Run `query` instead, then put null at `nullPaths` and report `removals`. */
  | {
      kind: 'rewritten';
      query: string;
      removals: readonly Removal[];
      nullPaths: readonly (readonly string[])[];
    }
  /** Nothing left to run: answer `data` (null, or an object of nulls) with the removals. */
  | { kind: 'nothing-to-run'; data: Record<string, null> | null; removals: readonly Removal[] }
  /** The operation is too large to check (a fragment bomb); refuse it. */
  | { kind: 'too-large' };

export interface AuthorizeOptions {
  /** Introspection (`__schema`, `__type`) needs `schema:read` unless this is true (development). */
  introspectionForAll: boolean;
  /** Most field selections an operation may expand to once fragments are inlined. @default 20000 */
  maxSelections?: number;
}

export class TooLarge extends Error {}

/** Replaces fragment spreads by inline fragments, so aliases and fragments cannot hide a field. */
export function inlineFragments(
  operation: OperationDefinitionNode,
  fragments: Map<string, FragmentDefinitionNode>,
  max: number,
): OperationDefinitionNode {
  let count = 0;
  const expand = (set: SelectionSetNode, stack: readonly string[]): SelectionSetNode => ({
    ...set,
    selections: set.selections.map((selection): SelectionNode => {
      count += 1;
      if (count > max) throw new TooLarge();
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        // Unknown or cyclic fragments are left for validation to report.
        if (!fragment || stack.includes(fragment.name.value)) return selection;
        return {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition,
          ...(selection.directives ? { directives: selection.directives } : {}),
          selectionSet: expand(fragment.selectionSet, [...stack, fragment.name.value]),
        };
      }
      if (selection.selectionSet)
        return { ...selection, selectionSet: expand(selection.selectionSet, stack) };
      return selection;
    }),
  });
  return { ...operation, selectionSet: expand(operation.selectionSet, []) };
}

function listDepth(type: GraphQLOutputType): number {
  let depth = 0;
  let current: GraphQLOutputType = type;
  for (;;) {
    if (isNonNullType(current)) current = current.ofType;
    else if (isListType(current)) {
      depth += 1;
      current = current.ofType;
    } else return depth;
  }
}

interface WalkResult {
  selectionSet: SelectionSetNode | undefined;
  /** A non-null field below was removed, so the object holding it must be null. */
  nullSelf: boolean;
}

/**
 * Checks an operation against the caller's scopes before it is planned. Fields the caller may not
 * read are removed (no subgraph is asked for them) and reported with their path; where the schema
 * makes a removed field non-null, the nearest nullable parent becomes null instead, as GraphQL's
 * own error propagation would do.
 */
export function authorizeOperation(
  schema: GraphQLSchema,
  declarations: Declarations,
  document: DocumentNode,
  operationName: string | undefined,
  scopes: ReadonlySet<string>,
  options: AuthorizeOptions,
): AuthorizationPlan {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const selected = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  // An operation Apollo cannot resolve is Apollo's to report.
  if (!selected) return { kind: 'unchanged' };
  const rootType =
    selected.operation === 'query'
      ? schema.getQueryType()
      : selected.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  if (!rootType) return { kind: 'unchanged' };
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  let operation: OperationDefinitionNode;
  try {
    operation = inlineFragments(selected, fragments, options.maxSelections ?? 20_000);
  } catch (error) {
    if (error instanceof TooLarge) return { kind: 'too-large' };
    throw error;
  }

  const removals: Removal[] = [];
  const nullPaths: string[][] = [];

  const fieldDefinition = (
    parent: GraphQLCompositeType,
    name: string,
  ): GraphQLField<unknown, unknown> | undefined => {
    if (parent === rootType && name === '__schema') return SchemaMetaFieldDef;
    if (parent === rootType && name === '__type') return TypeMetaFieldDef;
    if (isObjectType(parent) || isInterfaceType(parent)) return parent.getFields()[name];
    return undefined;
  };

  /** The same reading of the directives every subgraph makes; undeclared is nobody. */
  const requirementOf = (
    parent: GraphQLCompositeType,
    name: string,
    definition: GraphQLField<unknown, unknown>,
  ): Requirement => {
    if (name === '__schema' || name === '__type')
      return options.introspectionForAll ? [[]] : [['schema:read']];
    // Inside introspection, `__schema`/`__type` above already decided.
    if (isIntrospectionType(parent)) return [[]];
    return declarations.requirement(parent.name, name, getNamedType(definition.type).name) ?? NOBODY;
  };

  /** Each (type, field) decided once per operation, however many times the document selects it. */
  const decided = new Map<string, { requirement: Requirement; allowed: boolean }>();
  const decide = (parent: GraphQLCompositeType, name: string, definition: GraphQLField<unknown, unknown>) => {
    const coordinate = `${parent.name}.${name}`;
    let decision = decided.get(coordinate);
    if (!decision) {
      const requirement = requirementOf(parent, name, definition);
      decision = { requirement, allowed: allows(requirement, scopes) };
      decided.set(coordinate, decision);
    }
    return decision;
  };

  const walk = (set: SelectionSetNode, parent: GraphQLCompositeType, path: readonly string[]): WalkResult => {
    const kept: SelectionNode[] = [];
    let nullSelf = false;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        kept.push(selection);
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parent;
        if (
          !condition ||
          !(isObjectType(condition) || isInterfaceType(condition) || isUnionType(condition))
        ) {
          kept.push(selection);
          continue;
        }
        const inner = walk(selection.selectionSet, condition, path);
        nullSelf ||= inner.nullSelf;
        if (inner.selectionSet) kept.push({ ...selection, selectionSet: inner.selectionSet });
        continue;
      }
      const field: FieldNode = selection;
      const name = field.name.value;
      if (name === '__typename') {
        kept.push(field);
        continue;
      }
      const definition = fieldDefinition(parent, name);
      // A field the schema does not have is left for validation to report.
      if (!definition) {
        kept.push(field);
        continue;
      }
      const key = field.alias?.value ?? name;
      const fieldPath = [...path, key];
      const nonNull = isNonNullType(definition.type);
      const drop = () => {
        if (nonNull) nullSelf = true;
        else nullPaths.push(fieldPath);
      };
      const { requirement, allowed } = decide(parent, name, definition);
      if (!allowed) {
        removals.push({ path: fieldPath, coordinate: `${parent.name}.${name}`, required: requirement });
        drop();
        continue;
      }
      if (!field.selectionSet) {
        kept.push(field);
        continue;
      }
      const named = getNamedType(definition.type);
      if (!(isObjectType(named) || isInterfaceType(named) || isUnionType(named))) {
        kept.push(field);
        continue;
      }
      const childPath = [...fieldPath, ...Array.from({ length: listDepth(definition.type) }, () => '@')];
      const inner = walk(field.selectionSet, named, childPath);
      if (inner.nullSelf || !inner.selectionSet) drop();
      else kept.push({ ...field, selectionSet: inner.selectionSet });
    }
    return { selectionSet: kept.length > 0 ? { ...set, selections: kept } : undefined, nullSelf };
  };

  const root = walk(operation.selectionSet, rootType, []);
  if (removals.length === 0) return { kind: 'unchanged' };
  if (root.nullSelf) return { kind: 'nothing-to-run', data: null, removals };
  if (!root.selectionSet) {
    return {
      kind: 'nothing-to-run',
      data: Object.fromEntries(nullPaths.filter((p) => p.length === 1).map((p) => [p[0] as string, null])),
      removals,
    };
  }
  const rewritten: OperationDefinitionNode = { ...operation, selectionSet: root.selectionSet };
  // Variables only the removed fields used would now fail validation as unused.
  const used = new Set<string>();
  visit(rewritten.selectionSet, {
    Variable(node) {
      used.add(node.name.value);
    },
  });
  const withVariables: OperationDefinitionNode = {
    ...rewritten,
    variableDefinitions: rewritten.variableDefinitions?.filter((v) => used.has(v.variable.name.value)) ?? [],
  };
  return {
    kind: 'rewritten',
    query: print({ kind: Kind.DOCUMENT, definitions: [withVariables] }),
    removals,
    nullPaths,
  };
}

/** Puts null where removed fields would have been, following `@` into every list element. */
export function insertNulls(data: unknown, paths: readonly (readonly string[])[]): void {
  const at = (value: unknown, path: readonly string[]): void => {
    if (value === null || typeof value !== 'object') return;
    const [head, ...rest] = path;
    if (head === undefined) return;
    if (head === '@') {
      if (Array.isArray(value)) for (const item of value) at(item, rest);
      return;
    }
    const record = value as Record<string, unknown>;
    if (rest.length === 0) record[head] = null;
    else at(record[head], rest);
  };
  for (const path of paths) at(data, path);
}
