import { readFileSync } from 'node:fs';
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedDirective,
  isSpecifiedScalarType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { apiSchemaOf } from '../../lib/graphql/api-schema.js';

/** Every schema coordinate a client can see, with its description (or undefined when it has none). */
function describedCoordinates(schema: GraphQLSchema): Map<string, string | null | undefined> {
  const out = new Map<string, string | null | undefined>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    const isRoot = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].includes(
      type as never,
    );
    // Root types are described by their fields; GraphQL gives them no place of their own in docs.
    if (!isRoot) out.set(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        out.set(`${type.name}.${field.name}`, field.description);
        if ('args' in field)
          for (const arg of field.args) out.set(`${type.name}.${field.name}(${arg.name}:)`, arg.description);
      }
    }
    if (isEnumType(type))
      for (const value of type.getValues()) out.set(`${type.name}.${value.name}`, value.description);
  }
  for (const directive of schema.getDirectives()) {
    if (isSpecifiedDirective(directive)) continue;
    out.set(`@${directive.name}`, directive.description);
    for (const arg of directive.args) out.set(`@${directive.name}(${arg.name}:)`, arg.description);
  }
  return out;
}

describe('every part of the supergraph API schema is described', () => {
  const schema = apiSchemaOf(readFileSync('schema/supergraph.graphql', 'utf8'));
  const coordinates = describedCoordinates(schema);

  it('should see the whole API schema (types, fields, arguments, enum values)', () => {
    // Guards the walk itself: a walk that found nothing would pass the next test vacuously.
    for (const known of [
      'Customer',
      'Customer.email',
      'Query.customers(first:)',
      'EventType.ORDER_PLACED',
      'Money',
    ])
      expect(coordinates.has(known), known).toBe(true);
    expect(coordinates.size).toBeGreaterThan(150);
  });

  it('should have a non-empty description on each of them (the explorer docs pane shows them)', () => {
    const missing = [...coordinates].filter(([, description]) => !description?.trim()).map(([c]) => c);
    expect(missing, 'describe these in schema/<subgraph>.graphql, then npm run compose').toEqual([]);
  });

  it('should name the replacement of every deprecated field', () => {
    const deprecated = [...Object.values(schema.getTypeMap())]
      .filter((type) => isObjectType(type) && !isIntrospectionType(type))
      .flatMap((type) => (isObjectType(type) ? Object.values(type.getFields()) : []))
      .filter((field) => typeof field.deprecationReason === 'string');
    for (const field of deprecated) expect(field.deprecationReason).toMatch(/^Use \w+/);
  });
});
