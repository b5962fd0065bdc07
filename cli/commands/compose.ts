import { readFileSync, writeFileSync } from 'node:fs';
import { composeSupergraph, readSubgraphSchemas } from '../../lib/graphql/compose.js';

const SUPERGRAPH = 'schema/supergraph.graphql';

/** `compose`: writes the supergraph, or with `--check` fails when the committed one is stale. */
export function composeCommand(check: boolean): number {
  const result = composeSupergraph(readSubgraphSchemas(process.cwd()));
  for (const hint of result.hints) process.stderr.write(`hint: ${hint}\n`);
  if (!result.ok) {
    process.stderr.write(`Composition failed:\n${result.errors.map((e) => `  - ${e}`).join('\n')}\n`);
    return 1;
  }
  let current = '';
  try {
    current = readFileSync(SUPERGRAPH, 'utf8');
  } catch {
    current = '';
  }
  if (check) {
    if (current === result.supergraphSdl) {
      process.stdout.write(`${SUPERGRAPH} is up to date.\n`);
      return 0;
    }
    process.stderr.write(`${SUPERGRAPH} is stale: run \`npm run compose\` and commit the result.\n`);
    return 1;
  }
  if (current === result.supergraphSdl) {
    process.stdout.write(`${SUPERGRAPH} unchanged.\n`);
  } else {
    writeFileSync(SUPERGRAPH, result.supergraphSdl);
    process.stdout.write(`Wrote ${SUPERGRAPH}.\n`);
  }
  return 0;
}
