import { isScalarType, type GraphQLSchema } from 'graphql';
import { DateScalar, DateTimeScalar, DecimalScalar } from '../lib/graphql/scalars.js';

const SHARED_SCALARS = [DateScalar, DateTimeScalar, DecimalScalar];

/**
 * The supergraph carries custom scalars by name only, so the gateway would accept `2026-02-30` and
 * spend a subgraph round trip to learn it is wrong. Giving the gateway's own schema the graph's
 * scalar parsing rejects bad input before planning, with the same BAD_USER_INPUT message.
 */
export function enforceSharedScalars(schema: GraphQLSchema): void {
  for (const implementation of SHARED_SCALARS) {
    const type = schema.getType(implementation.name);
    if (!isScalarType(type)) continue;
    // Only input parsing: results arrive already serialised by the subgraphs.
    type.parseValue = implementation.parseValue;
    type.parseLiteral = implementation.parseLiteral;
  }
}
