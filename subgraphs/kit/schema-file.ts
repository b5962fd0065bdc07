import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, type DocumentNode } from 'graphql';
import type { SubgraphName } from '../../lib/graphql/subgraph-names.js';

/** A subgraph's SDL from `schema/<name>.graphql`, the one place it is written. */
export function subgraphTypeDefs(name: SubgraphName): DocumentNode {
  const path = fileURLToPath(new URL(`../../schema/${name}.graphql`, import.meta.url));
  return parse(readFileSync(path, 'utf8'));
}
