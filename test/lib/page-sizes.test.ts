import { readFileSync } from 'node:fs';
import { isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { apiSchemaOf } from '../../lib/graphql/api-schema.js';
import { PAGE_SIZES } from '../../lib/graphql/page-sizes.js';

/**
 * The page-size table is written in two places (the role subgraphs' declarations, through the
 * generated vocabulary, and lib's own for the events subgraph): each coordinate must name an
 * argument the served graph has, and each maximum must be the one its description promises.
 */
describe('the page sizes', () => {
  const schema = apiSchemaOf(readFileSync('schema/supergraph.graphql', 'utf8'));

  it.each(Object.entries(PAGE_SIZES))(
    'should have %s in the graph, described with its maximum %d',
    (coordinate, max) => {
      const [, typeName, fieldName, argumentName] = /^(\w+)\.(\w+)\((\w+):\)$/.exec(coordinate) ?? [];
      const type = schema.getType(typeName ?? '');
      expect(type && isObjectType(type), `${typeName} is an object type`).toBe(true);
      const field = isObjectType(type) ? type.getFields()[fieldName ?? ''] : undefined;
      const argument = field?.args.find((candidate) => candidate.name === argumentName);
      expect(argument?.name).toBe(argumentName);
      expect(argument?.description ?? '').toMatch(new RegExp(`\\b${max}\\b`));
    },
  );
});
