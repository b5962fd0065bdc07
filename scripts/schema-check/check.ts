import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { apiSchemaOf } from '../../lib/graphql/api-schema.js';
import { composeSupergraph, readSubgraphSchemas } from '../../lib/graphql/compose.js';
import { accepts, CHANGES_FILE, readAcceptedChanges, type AcceptedChange } from './changes-file.js';

/** The committed supergraph, relative to the repository root. */
export const SUPERGRAPH_FILE = 'schema/supergraph.graphql';

export interface SchemaCheckOptions {
  /** The repository root: where `schema/` is and where git runs. */
  root: string;
  /** The git ref to compare with. @default 'main' */
  ref?: string;
}

export interface SchemaChange {
  type: string;
  path?: string | undefined;
  message: string;
  reason?: string | undefined;
}

export type SchemaCheckResult =
  | { status: 'skipped'; ref: string; notice: string }
  | {
      status: 'passed' | 'failed';
      ref: string;
      commit: string;
      /** Breaking changes not listed in schema/changes.yaml: each one fails the check. */
      breaking: SchemaChange[];
      /** Breaking changes listed in schema/changes.yaml, with the reason given there. */
      accepted: (SchemaChange & { acceptedBecause: string })[];
      /** Changes that can break some clients (a new enum value, a changed default): warnings. */
      dangerous: SchemaChange[];
      safe: SchemaChange[];
      /** Entries of schema/changes.yaml that match no change (already on the ref, or mistyped). */
      unused: AcceptedChange[];
    };

/** A problem with the check's input (its arguments, the changes file, the schema): exit code 2. */
export class SchemaCheckInputError extends Error {
  override readonly name = 'SchemaCheckInputError';
  constructor(
    readonly code: 'BAD_REF' | 'BAD_CHANGES_FILE' | 'COMPOSITION_FAILED' | 'BAD_BASE_SCHEMA',
    message: string,
  ) {
    super(message);
  }
}

/** Refs as git spells them; never an option (`--output=...`) smuggled in as a ref. */
const REF = /^(?!-)[A-Za-z0-9._/@{}~^-]{1,200}$/;

function git(root: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    return undefined;
  }
}

function currentSupergraph(root: string): string {
  const composed = composeSupergraph(readSubgraphSchemas(root));
  if (!composed.ok)
    throw new SchemaCheckInputError(
      'COMPOSITION_FAILED',
      `schema/*.graphql do not compose, so there is no schema to check:\n  ${composed.errors.join('\n  ')}`,
    );
  return composed.supergraphSdl;
}

const toChange = (change: Change): SchemaChange => ({
  type: change.type,
  path: change.path,
  message: change.message,
  reason: change.criticality.reason,
});

/**
 * Compares the API schema composed from `schema/*.graphql` with the API schema of the supergraph
 * committed at `ref`. Breaking changes fail unless `schema/changes.yaml` lists them; dangerous ones
 * are reported. When the ref or its supergraph does not exist there is nothing to compare: skipped.
 */
export async function checkSchema(options: SchemaCheckOptions): Promise<SchemaCheckResult> {
  const ref = options.ref ?? 'main';
  if (!REF.test(ref))
    throw new SchemaCheckInputError(
      'BAD_REF',
      `"${ref}" is not a git ref (a branch, tag or commit, not starting with "-").`,
    );
  // Read first: a malformed changes file is reported whatever the comparison finds.
  let acceptedChanges: AcceptedChange[];
  try {
    acceptedChanges = readAcceptedChanges(join(options.root, CHANGES_FILE));
  } catch (error) {
    throw new SchemaCheckInputError('BAD_CHANGES_FILE', (error as Error).message);
  }
  const current = currentSupergraph(options.root);

  const commit = git(options.root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])?.trim();
  if (!commit)
    return {
      status: 'skipped',
      ref,
      notice: `There is no git ref "${ref}" here, so there is nothing to compare with.`,
    };
  const base = git(options.root, ['show', `${commit}:${SUPERGRAPH_FILE}`]);
  if (base === undefined)
    return {
      status: 'skipped',
      ref,
      notice: `"${ref}" has no ${SUPERGRAPH_FILE}, so there is nothing to compare with.`,
    };

  let baseSchema;
  try {
    baseSchema = apiSchemaOf(base);
  } catch (error) {
    throw new SchemaCheckInputError(
      'BAD_BASE_SCHEMA',
      `The ${SUPERGRAPH_FILE} at "${ref}" is not a supergraph this check can read: ${(error as Error).message}`,
    );
  }
  const changes = await diff(baseSchema, apiSchemaOf(current));

  const breaking: SchemaChange[] = [];
  const accepted: (SchemaChange & { acceptedBecause: string })[] = [];
  const dangerous: SchemaChange[] = [];
  const safe: SchemaChange[] = [];
  const used = new Set<AcceptedChange>();
  for (const change of changes) {
    const level = change.criticality.level;
    if (level === CriticalityLevel.Breaking) {
      const entry = acceptedChanges.find((candidate) => accepts(candidate, change));
      if (entry) {
        used.add(entry);
        accepted.push({ ...toChange(change), acceptedBecause: entry.reason });
      } else breaking.push(toChange(change));
    } else if (level === CriticalityLevel.Dangerous) dangerous.push(toChange(change));
    else safe.push(toChange(change));
  }
  return {
    status: breaking.length > 0 ? 'failed' : 'passed',
    ref,
    commit,
    breaking,
    accepted,
    dangerous,
    safe,
    unused: acceptedChanges.filter((entry) => !used.has(entry)),
  };
}

const name = (change: SchemaChange) =>
  `${change.type}${change.path ? ` ${change.path}` : ''}: ${change.message}`;

/** The report `npm run schema:check` prints, one line per change, then the outcome. */
export function formatReport(result: SchemaCheckResult): string {
  if (result.status === 'skipped') return `schema:check: ${result.notice} Passing.`;
  const lines = [
    `schema:check: the API schema composed from schema/*.graphql against ${SUPERGRAPH_FILE} at ${result.ref} (${result.commit.slice(0, 12)})`,
  ];
  if (result.breaking.length > 0) {
    lines.push(`Breaking changes not accepted (${result.breaking.length}):`);
    for (const change of result.breaking) lines.push(`  ✗ ${name(change)}`);
    lines.push(
      `  Keep the old field or value (retire it with @deprecated(reason: "Use X.") first), or list the change in ${CHANGES_FILE} with a reason.`,
    );
  }
  if (result.accepted.length > 0) {
    lines.push(`Breaking changes accepted in ${CHANGES_FILE} (${result.accepted.length}):`);
    for (const change of result.accepted) lines.push(`  ✓ ${name(change)} (${change.acceptedBecause})`);
  }
  if (result.dangerous.length > 0) {
    lines.push(
      `Warning: dangerous changes (${result.dangerous.length}), which can break clients that do not expect them:`,
    );
    for (const change of result.dangerous)
      lines.push(`  ! ${name(change)}${change.reason ? ` (${change.reason})` : ''}`);
  }
  if (result.safe.length > 0) {
    lines.push(`Safe changes (${result.safe.length}):`);
    for (const change of result.safe) lines.push(`  · ${name(change)}`);
  }
  if (result.unused.length > 0) {
    lines.push(
      `Entries of ${CHANGES_FILE} that match no change (remove them once the change is on ${result.ref}):`,
    );
    for (const entry of result.unused)
      lines.push(`  - ${entry.path ?? ''}${entry.path && entry.message ? ': ' : ''}${entry.message ?? ''}`);
  }
  lines.push(
    `Summary: ${result.breaking.length} breaking, ${result.accepted.length} accepted, ${result.dangerous.length} dangerous, ${result.safe.length} safe. ${
      result.status === 'failed' ? 'FAILED.' : 'Passed.'
    }`,
  );
  return lines.join('\n');
}
