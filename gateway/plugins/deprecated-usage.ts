import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import {
  getNamedType,
  separateOperations,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { Counter } from '../../lib/metrics.js';
import type { GatewayContext } from '../context.js';
import { clientLabel } from '../identity.js';

export const deprecatedUsageMetrics = {
  uses: new Counter(
    'graphql_deprecated_field_usage_total',
    'Operations that used a deprecated field, argument or enum value, by schema coordinate, client id and operation name.',
    ['field', 'client', 'operation'],
  ),
};

/** The label sets counted under their own operation name, read synchronously on the hot path. */
const countedSeries = new Set<string>();

export interface DeprecatedUsageOptions {
  /**
   * Label sets kept before new operation names are counted as `other`: operation names are chosen
   * by clients, and a client sending a new name per request must not grow the metric without bound.
   * @default 2000
   */
  maxSeries?: number;
}

/** Longest operation name kept as a label; longer names are cut. */
const MAX_OPERATION_NAME = 100;
const ANONYMOUS_OPERATION = '(anonymous)';
const OTHER_OPERATION = 'other';

/** `@deprecated` always leaves a reason ("No longer supported" by default). */
function isDeprecated<T extends { deprecationReason?: string | null | undefined }>(
  element: T | null | undefined,
): element is T {
  return typeof element?.deprecationReason === 'string';
}

/**
 * The schema coordinates of every deprecated field, argument and enum value (in a literal) the
 * operation selects, once each, with its fragments inlined by the walk. Enum values given through
 * variables are not seen here: they are values, not part of the document.
 */
export function deprecatedCoordinates(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): Set<string> {
  const used = new Set<string>();
  // The operation that runs and the fragments it spreads, and nothing else of the document.
  const operations = separateOperations(document);
  const selected =
    operations[operationName ?? ''] ??
    (Object.keys(operations).length === 1 ? Object.values(operations)[0] : undefined);
  if (!selected) return used;
  const typeInfo = new TypeInfo(schema);
  visit(
    selected,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (parent && isDeprecated(field)) used.add(`${parent.name}.${field.name}`);
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        const argument = typeInfo.getArgument();
        if (parent && field && isDeprecated(argument))
          used.add(`${parent.name}.${field.name}(${node.name.value}:)`);
      },
      EnumValue() {
        const value = typeInfo.getEnumValue();
        const type = getNamedType(typeInfo.getInputType());
        if (isDeprecated(value) && type) used.add(`${type.name}.${value.name}`);
      },
    }),
  );
  return used;
}

/**
 * Counts, per client and operation name, the operations that use deprecated parts of the schema,
 * so the owner of a field knows whom to tell before removing it. Runs once the operation is
 * resolved against the schema (response-cache hits included), before execution.
 */
export function deprecatedUsagePlugin(
  options: DeprecatedUsageOptions = {},
): ApolloServerPlugin<GatewayContext> {
  const maxSeries = options.maxSeries ?? 2000;
  /** Whether a new label set would be one too many (one already counted is always counted again). */
  const full = (key: string) => !countedSeries.has(key) && countedSeries.size >= maxSeries;
  // Apollo Server hands the same parsed document to every request with the same text (its document
  // store), so the walk runs once per (schema, document, operation), not once per request.
  const walked = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, Set<string>>>>();
  const coordinatesOf = (schema: GraphQLSchema, document: DocumentNode, operationName: string | null) => {
    let bySchema = walked.get(schema);
    if (!bySchema) walked.set(schema, (bySchema = new WeakMap()));
    let byOperation = bySchema.get(document);
    if (!byOperation) bySchema.set(document, (byOperation = new Map()));
    let used = byOperation.get(operationName ?? '');
    if (!used)
      byOperation.set(operationName ?? '', (used = deprecatedCoordinates(schema, document, operationName)));
    return used;
  };
  // One listener for every request, not a new object and closure per request (issue 17, target 2).
  const listener: GraphQLRequestListener<GatewayContext> = {
    async didResolveOperation({ schema, document, operationName, contextValue }) {
      const used = coordinatesOf(schema, document, operationName);
      if (used.size === 0) return;
      const named = operationName ? operationName.slice(0, MAX_OPERATION_NAME) : ANONYMOUS_OPERATION;
      for (const field of used) {
        const labels = { field, client: clientLabel(contextValue.client), operation: named };
        const key = `${field}\n${labels.client}\n${named}`;
        const counted = full(key) ? { ...labels, operation: OTHER_OPERATION } : labels;
        if (counted === labels) countedSeries.add(key);
        deprecatedUsageMetrics.uses.inc(counted);
      }
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
