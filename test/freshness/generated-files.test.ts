import { readFileSync } from 'node:fs';
import { generate } from '@graphql-codegen/cli';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import codegenConfig from '../../codegen.js';
import { catalog } from '../../lib/config/catalog.js';
import { renderConfigTable, replaceConfigTable } from '../../lib/config/table.js';
import { composeSupergraph, readSubgraphSchemas } from '../../lib/graphql/compose.js';

/** Generated files are committed; each test regenerates one in memory and compares. */
describe('generated files are fresh', () => {
  it('should have a committed supergraph equal to a fresh composition (npm run compose)', () => {
    const result = composeSupergraph(readSubgraphSchemas(process.cwd()));
    expect(result.ok ? [] : result.errors).toEqual([]);
    expect(result.ok && result.supergraphSdl).toBe(readFileSync('schema/supergraph.graphql', 'utf8'));
  });

  it('should have committed resolver types equal to a fresh codegen run (npm run codegen)', async () => {
    const outputs = await generate({ ...codegenConfig, hooks: {} }, false);
    expect(outputs.length).toBe(4);
    for (const output of outputs) {
      const options = await resolveConfig(output.filename);
      const fresh = await format(output.content, { ...options, filepath: output.filename });
      expect(fresh, `${output.filename} is stale: run npm run codegen`).toBe(
        readFileSync(output.filename, 'utf8'),
      );
    }
  });

  it('should have a README configuration table equal to the catalog (npm run docs:config)', async () => {
    const readme = readFileSync('README.md', 'utf8');
    const options = { ...(await resolveConfig('README.md')), filepath: 'README.md' };
    const fresh = await format(replaceConfigTable(readme, renderConfigTable(catalog)), options);
    expect(readme, 'README.md configuration table is stale: run npm run docs:config').toBe(fresh);
  });
});
