import { readFileSync } from 'node:fs';
import { generate } from '@graphql-codegen/cli';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import codegenConfig from '../../codegen.js';
import { freshReadme } from '../../scripts/readme-sections.js';
import { composeSupergraph, readSubgraphSchemas } from '../../lib/graphql/compose.js';
import { SUBGRAPH_NAMES } from '../../lib/graphql/subgraph-names.js';
import { freshVocabulary } from '../../scripts/codegen/vocabulary.js';

/** Generated files are committed; each test regenerates one in memory and compares. */
describe('generated files are fresh', () => {
  it('should have a committed supergraph equal to a fresh composition (npm run compose)', () => {
    const result = composeSupergraph(readSubgraphSchemas(process.cwd()));
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(result.ok && result.supergraphSdl).toBe(readFileSync('schema/supergraph.graphql', 'utf8'));
  });

  it("should have the vocabulary and the events schema's generated values equal to the registries (npm run codegen)", async () => {
    const fresh = await freshVocabulary(process.cwd());
    expect(Object.keys(fresh)).toEqual(['lib/__generated__/vocabulary.ts', 'schema/events.graphql']);
    for (const [path, content] of Object.entries(fresh)) {
      expect(readFileSync(path, 'utf8'), `${path} is stale: run npm run codegen`).toBe(content);
    }
  });

  it('should have committed resolver types equal to a fresh codegen run (npm run codegen)', async () => {
    const outputs = await generate({ ...codegenConfig, hooks: {} }, false);
    // One per subgraph.
    expect(outputs.length).toBe(SUBGRAPH_NAMES.length);
    for (const output of outputs) {
      const options = await resolveConfig(output.filename);
      const fresh = await format(output.content, { ...options, filepath: output.filename });
      expect(fresh, `${output.filename} is stale: run npm run codegen`).toBe(
        readFileSync(output.filename, 'utf8'),
      );
    }
  });

  it('should have README sections equal to the code they are generated from (npm run docs:readme)', async () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme, 'a generated README section is stale: run npm run docs:readme').toBe(
      await freshReadme(readme),
    );
  });
});
