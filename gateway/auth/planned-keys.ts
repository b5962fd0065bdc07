import {
  buildASTSchema,
  getNamedType,
  isAbstractType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Declarations } from '../../lib/auth/requirements.js';
import { BoundedMap } from '../../lib/cache/bounded-map.js';

/** The client's operation as Apollo runs it (after the permission step removed what it may not read). */
export interface ClientOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

function isComposite(type: GraphQLNamedType | null | undefined): type is GraphQLCompositeType {
  return isObjectType(type) || isInterfaceType(type) || isAbstractType(type);
}

/**
 * Which key fields the query planner put into a subgraph fetch that the client's operation does not
 * select: the fields it added to join entities across subgraphs (`Customer.email`, how the email
 * and commerce subgraphs find a customer). They go into the fetch's gateway token as `planned`, so
 * the subgraph lets this one fetch read them with the entity type's requirement alone, while a
 * client's own selection of a key field (and any direct call) needs the field's full requirement.
 *
 * Compared by coordinate: a coordinate the client selects anywhere is never planned, so if the
 * permission step ever let through a field the caller may not read, the subgraph still refuses it.
 */
export class PlannedKeyFields {
  private readonly schema: GraphQLSchema;
  /** Key coordinates each distinct fetch text selects (the planner's fetches repeat). */
  private readonly fetches = new BoundedMap<string, readonly string[]>(5_000);
  /** Coordinates each client operation selects; Apollo reuses the parsed document per query text. */
  private readonly clients = new WeakMap<OperationDefinitionNode, ReadonlySet<string>>();

  /**
   * @param supergraph The composed supergraph (all fields, `@inaccessible` ones included, since a
   *   fetch may select those).
   * @param declarations Its declarations: the key fields of every subgraph (`@join__type(key:)`).
   */
  constructor(
    supergraph: string | DocumentNode,
    private readonly declarations: Declarations,
  ) {
    const document = typeof supergraph === 'string' ? parse(supergraph) : supergraph;
    this.schema = buildASTSchema(document, { assumeValid: true, assumeValidSDL: true });
  }

  /** Key fields (`Type.field`, sorted) in `fetchQuery` that the client's operation does not select. */
  plannedIn(fetchQuery: string, client: ClientOperation | undefined): string[] {
    let keys = this.fetches.get(fetchQuery);
    if (!keys) {
      const document = parse(fetchQuery, { noLocation: true });
      const operation = document.definitions.find(
        (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
      );
      const selected = operation ? this.coordinates(document, operation) : new Set<string>();
      keys = [...selected].filter((c) => this.declarations.keys.has(c)).sort();
      this.fetches.set(fetchQuery, keys);
    }
    if (keys.length === 0) return [];
    if (!client) return [...keys];
    let asked = this.clients.get(client.operation);
    if (!asked) {
      asked = this.coordinates(client.document, client.operation);
      this.clients.set(client.operation, asked);
    }
    const clientAsked = asked;
    return keys.filter((c) => !clientAsked.has(c));
  }

  /**
   * Every `Type.field` an operation selects, fragments followed. A field selected on an interface
   * or union counts for each of its object types; `_entities` (a fetch's entry to entities) is
   * typed by the inline fragments under it.
   */
  private coordinates(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((f) => [f.name.value, f]),
    );
    const out = new Set<string>();
    const add = (type: GraphQLCompositeType, field: string) => {
      out.add(`${type.name}.${field}`);
      if (isAbstractType(type))
        for (const possible of this.schema.getPossibleTypes(type)) out.add(`${possible.name}.${field}`);
    };
    const walk = (
      set: SelectionSetNode,
      parent: GraphQLCompositeType | undefined,
      seen: readonly string[],
    ) => {
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name === '_entities' && selection.selectionSet) {
            walk(selection.selectionSet, undefined, seen);
            continue;
          }
          if (!parent || name === '__typename') continue;
          add(parent, name);
          if (!selection.selectionSet || isUnionType(parent)) continue;
          const field = parent.getFields()[name];
          const returns = field ? getNamedType(field.type) : undefined;
          if (isComposite(returns)) walk(selection.selectionSet, returns, seen);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const narrowed = selection.typeCondition
            ? this.schema.getType(selection.typeCondition.name.value)
            : parent;
          walk(selection.selectionSet, isComposite(narrowed) ? narrowed : undefined, seen);
        } else {
          const fragment = fragments.get(selection.name.value);
          if (!fragment || seen.includes(fragment.name.value)) continue;
          const narrowed = this.schema.getType(fragment.typeCondition.name.value);
          walk(fragment.selectionSet, isComposite(narrowed) ? narrowed : undefined, [
            ...seen,
            fragment.name.value,
          ]);
        }
      }
    };
    const root =
      operation.operation === 'query'
        ? this.schema.getQueryType()
        : operation.operation === 'mutation'
          ? this.schema.getMutationType()
          : this.schema.getSubscriptionType();
    walk(operation.selectionSet, root ?? undefined, []);
    return out;
  }
}
