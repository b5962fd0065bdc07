import { readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import { catalog } from '../lib/config/catalog.js';
import { renderConfigTable, replaceConfigTable } from '../lib/config/table.js';

/** Regenerates the configuration table in README.md from the catalog. */
const readme = readFileSync('README.md', 'utf8');
// Formatted like the rest of the repository, so `prettier --check` and the freshness test agree.
const next = await format(replaceConfigTable(readme, renderConfigTable(catalog)), {
  ...(await resolveConfig('README.md')),
  filepath: 'README.md',
});
if (next === readme) console.log('README.md configuration table is up to date.');
else {
  writeFileSync('README.md', next);
  console.log('Updated the configuration table in README.md.');
}
