import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DATA_FLOWS_FILE, renderDataFlows } from './render-data-flows.js';

/** `npm run docs`: regenerates docs/data-flows.md from the schema and the code. */
const fresh = await renderDataFlows(process.cwd());
const current = existsSync(DATA_FLOWS_FILE) ? readFileSync(DATA_FLOWS_FILE, 'utf8') : undefined;
if (current === fresh) console.log(`${DATA_FLOWS_FILE} is up to date.`);
else {
  mkdirSync(dirname(DATA_FLOWS_FILE), { recursive: true });
  writeFileSync(DATA_FLOWS_FILE, fresh);
  console.log(`Wrote ${DATA_FLOWS_FILE}.`);
}
