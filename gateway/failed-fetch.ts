import {
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type GraphQLFormattedError,
  type SelectionSetNode,
} from 'graphql';

type Path = (string | number)[];

/** The response names a selection set asks for at its own level, through fragments. */
function responseNames(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  out: Set<string>,
): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const name = selection.alias?.value ?? selection.name.value;
      if (name !== '__typename') out.add(name);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      responseNames(selection.selectionSet, fragments, out);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (fragment) responseNames(fragment.selectionSet, fragments, out);
    }
  }
  return out;
}

/**
 * Where the fields of one subgraph fetch sit in its response: `[field]` for a root fetch,
 * `['_entities', i, field]` for each entity of an entity fetch. The gateway maps these paths to
 * the client's response, like any error a subgraph returns.
 */
function fieldPaths(document: DocumentNode, representations: number): Path[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (!operation) return [];
  const paths: Path[] = [];
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    if (selection.name.value === '_entities' && selection.selectionSet) {
      const fields = [...responseNames(selection.selectionSet, fragments, new Set())];
      for (let i = 0; i < representations; i++)
        for (const field of fields) paths.push(['_entities', i, field]);
    } else {
      paths.push([selection.alias?.value ?? selection.name.value]);
    }
  }
  return paths;
}

/**
 * The answer a subgraph that could not be reached (down, timed out, answered no GraphQL) stands
 * for: no data, and `error` at each field the fetch asked it for. So a dead subgraph costs the
 * client exactly the fields it serves, with the error where each of them would have been, the
 * same as when the subgraph's platform is down. Undefined when the fetch cannot be read (then the
 * caller reports the error for the whole fetch).
 */
export function failedFetchResponse(
  fetch: { query?: string | undefined; variables?: Record<string, unknown> | undefined },
  document: DocumentNode | undefined,
  error: GraphQLError,
): { data: null; errors: GraphQLFormattedError[] } | undefined {
  let parsed = document;
  try {
    parsed ??= fetch.query ? parse(fetch.query) : undefined;
  } catch {
    return undefined;
  }
  if (!parsed) return undefined;
  const representations = fetch.variables?.['representations'];
  const paths = fieldPaths(parsed, Array.isArray(representations) ? representations.length : 0);
  if (paths.length === 0) return undefined;
  return {
    data: null,
    errors: paths.map((path) => ({ message: error.message, path, extensions: error.extensions })),
  };
}
