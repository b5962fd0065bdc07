import {
  getNamedType,
  GraphQLError,
  Kind,
  parse,
  print,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type FieldNode,
  type GraphQLSchema,
} from 'graphql';
import { basicPayload, type PayloadBuilder } from '../deliveries/payload.js';
import type { DeliveredEvent, JsonValue } from '../lib/events/event.js';
import {
  allows,
  describeRequirement,
  readDeclarations,
  type Declarations,
} from '../lib/auth/requirements.js';
import { ErrorCode } from '../lib/errors.js';
import { apiSchemaOf } from '../lib/graphql/api-schema.js';
import type { GraphResult } from './customer-context.js';

/**
 * Enriched webhooks: an endpoint's `selection` is a GraphQL selection on the event, today its
 * customer (`customer { email lifecycleStage lifetimeValue { amount } }`), read through the
 * federated graph with the permissions of the client that owns the endpoint, and sent as
 * `data.enriched` so a subscriber gets what it needs without calling back. Checked when saved
 * (parses, exists in the graph, the owner may read every field), resolved when the message is made.
 */

/** The fields a selection may start from: what an event can be joined to in the graph. */
const ROOTS = ['customer'] as const;

function refused(reason: 'selection-invalid' | 'selection-forbidden', message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, reason, argumentName: 'selection' },
  });
}

/**
 * The query a selection becomes: its `customer { ... }` read as `Query.customer` by the event's
 * customer id (or email). Throws BAD_USER_INPUT (`selection-invalid`) when it is not one.
 */
export function enrichmentQuery(selection: string): string {
  let document;
  try {
    document = parse(`{ ${selection} }`, { noLocation: true, maxTokens: 2_000 });
  } catch (error) {
    throw refused('selection-invalid', `The selection does not parse: ${(error as Error).message}`);
  }
  const [operation, ...more] = document.definitions;
  if (operation?.kind !== Kind.OPERATION_DEFINITION || more.length > 0)
    throw refused('selection-invalid', 'The selection must be fields only, such as `customer { email }`.');
  const roots = operation.selectionSet.selections;
  const field = roots[0];
  if (
    roots.length !== 1 ||
    field?.kind !== Kind.FIELD ||
    !(ROOTS as readonly string[]).includes(field.name.value) ||
    field.alias ||
    (field.arguments?.length ?? 0) > 0 ||
    (field.directives?.length ?? 0) > 0 ||
    !field.selectionSet
  )
    throw refused(
      'selection-invalid',
      `The selection must be one of ${ROOTS.map((root) => `\`${root} { ... }\``).join(', ')}, with no alias, arguments or directives on it: the event's own ${ROOTS.join(', ')}.`,
    );
  return `query WebhookEnrichment($id: ID, $email: String) { customer(id: $id, email: $email) ${print((field as FieldNode).selectionSet!)} }`;
}

/** Every `Type.field` the query reads that `scopes` do not allow, with what it needs. */
function forbiddenFields(
  schema: GraphQLSchema,
  declarations: Declarations,
  query: string,
  scopes: readonly string[],
): string[] {
  const typeInfo = new TypeInfo(schema);
  const forbidden = new Set<string>();
  visit(
    parse(query),
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        const type = typeInfo.getType();
        if (!parent || !type || node.name.value.startsWith('__')) return;
        const requirement = declarations.requirement(parent.name, node.name.value, getNamedType(type).name);
        if (!allows(requirement, scopes))
          forbidden.add(
            `${parent.name}.${node.name.value} (needs ${requirement ? describeRequirement(requirement) : 'a declaration'})`,
          );
      },
    }),
  );
  return [...forbidden];
}

/**
 * Checks a selection against the federated API schema and the owner's scopes, as read from the
 * composed supergraph (the same declarations the gateway enforces). Resolves when it may be saved.
 */
export function selectionChecker(
  supergraphSdl: string,
): (selection: string, owner: { scopes: readonly string[] }) => Promise<void> {
  const schema = apiSchemaOf(supergraphSdl);
  const declarations = readDeclarations(parse(supergraphSdl));
  return async (selection, owner) => {
    const query = enrichmentQuery(selection);
    const errors = validate(schema, parse(query));
    if (errors.length > 0)
      throw refused(
        'selection-invalid',
        `The selection does not fit the graph: ${errors.map((error) => error.message).join(' ')}`,
      );
    const forbidden = forbiddenFields(schema, declarations, query, owner.scopes);
    if (forbidden.length > 0)
      throw refused(
        'selection-forbidden',
        `The endpoint's owner may not read ${forbidden.join(', ')}; its payloads are read with the owner's permissions.`,
      );
  };
}

/** Reads the graph as the client `clientId` (the endpoint's owner): undefined when no such client exists now. */
export type GraphReadAs = (
  clientId: string,
  query: string,
  variables: Record<string, unknown>,
) => Promise<GraphResult | undefined>;

interface BasicPayload {
  type: string;
  timestamp: string;
  data: Record<string, JsonValue>;
}

/**
 * The payload with `data.enriched`: the endpoint's selection read as its owner when the message is
 * made (once: every attempt and replay sends the same bytes). What the graph could not answer (a
 * platform down, a field the owner lost the scope for) is `null` in `enriched` with the reasons in
 * `data.enrichmentErrors`: the event is still delivered, never held back by a read.
 */
export function enrichedPayload(readAs: GraphReadAs): PayloadBuilder {
  return async (event, endpoint) => {
    const base = (await basicPayload(event, endpoint)) as unknown as BasicPayload;
    if (!endpoint.selection) return base as unknown as JsonValue;
    const { enriched, errors } = await enrich(readAs, event, endpoint.selection, endpoint.ownerClientId);
    return {
      ...base,
      data: { ...base.data, enriched, ...(errors.length > 0 ? { enrichmentErrors: errors } : {}) },
    } as unknown as JsonValue;
  };
}

async function enrich(
  readAs: GraphReadAs,
  event: DeliveredEvent,
  selection: string,
  owner: string,
): Promise<{ enriched: JsonValue; errors: { message: string }[] }> {
  const ref = event.customer;
  if (!ref?.id && !ref?.email) return { enriched: { customer: null }, errors: [] };
  let query: string;
  try {
    query = enrichmentQuery(selection);
  } catch (error) {
    return { enriched: null, errors: [{ message: (error as Error).message }] };
  }
  let result: GraphResult | undefined;
  try {
    result = await readAs(owner, query, ref.id ? { id: ref.id } : { email: ref.email });
  } catch (error) {
    // A read that failed outright costs this payload its enrichment, never the delivery itself.
    return {
      enriched: null,
      errors: [{ message: `Reading the selection failed: ${(error as Error).message}` }],
    };
  }
  if (!result)
    return {
      enriched: null,
      errors: [{ message: `The endpoint's owner, client ${owner}, is not registered any more.` }],
    };
  const errors = (result.errors ?? []).map((error) => ({ message: error.message }));
  return { enriched: (result.data ?? null) as JsonValue, errors };
}
