import { checkSchema, formatReport, SchemaCheckInputError } from './check.js';

/**
 * `npm run schema:check [ref]`: fails (exit 1) on a breaking change to the API schema compared with
 * `ref` (default `main`) that schema/changes.yaml does not accept; exit 2 on bad input.
 */
const args = process.argv.slice(2).filter((arg) => arg !== '--');
if (args.length > 1 || args[0] === '--help' || args[0] === '-h') {
  console.error('Usage: npm run schema:check [git ref, default main]');
  process.exit(args[0] === '--help' || args[0] === '-h' ? 0 : 2);
}
try {
  const result = await checkSchema({ root: process.cwd(), ...(args[0] ? { ref: args[0] } : {}) });
  const report = formatReport(result);
  if (result.status === 'failed') console.error(report);
  else console.log(report);
  process.exitCode = result.status === 'failed' ? 1 : 0;
} catch (error) {
  if (!(error instanceof SchemaCheckInputError)) throw error;
  console.error(`schema:check: ${error.message} (${error.code})`);
  process.exitCode = error.code === 'COMPOSITION_FAILED' ? 1 : 2;
}
