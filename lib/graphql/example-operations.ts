import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLError, Kind, parse, type OperationDefinitionNode } from 'graphql';
import { z } from 'zod';
import { relativeDayProblems } from './example-dates.js';

/**
 * The example operations in `docs/operations/*.graphql`: what each kind of user runs, written as
 * they would write it, each under a comment that says who runs it and with which scopes:
 *
 * ```graphql
 * # The dashboard's main table: one row per campaign key, every channel side by side.
 * # Client: reporting-dashboard
 * # Scopes: campaigns:read ads:read
 * # Variables: { "since": "$today-29", "until": "$today" }
 * query Dashboard($since: Date!, $until: Date!) { ... }
 * ```
 *
 * Lines other than `Client:`, `Scopes:` and `Variables:` are the description. Days in `Variables:`
 * are relative (`$today-29`, see `example-dates.ts`): resolve them with `resolveExampleVariables`.
 * A test validates every operation against the supergraph, checks the scopes against the field
 * permissions and runs it.
 */
export interface ExampleOperation {
  /** The operation's name, unique across the folder. */
  name: string;
  kind: 'query' | 'mutation' | 'subscription';
  /** File name inside the folder, such as `reporting-dashboard.graphql`. */
  file: string;
  description: string;
  /** The client that runs it (a demo client id in the embedded demo). */
  client: string;
  /** Scopes the operation needs, sorted. */
  scopes: string[];
  /** Example variables, days still relative (`$today-29`); empty when it takes none. */
  variables: Record<string, unknown>;
  /** The operation's text alone, as in the file, ready to send. */
  source: string;
}

export class ExampleOperationsError extends Error {
  override readonly name = 'ExampleOperationsError';
}

const SCOPE = /^[a-z]+:[a-z]+$/;

const headerSchema = z.object({
  description: z.string().min(1, 'needs a description line saying what it is for'),
  client: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a `# Client: <client id>` line'),
  scopes: z
    .array(z.string().regex(SCOPE, 'scopes are written `<domain>:<action>`'))
    .min(1, 'a `# Scopes: a:read b:read` line'),
  variables: z.record(z.string(), z.unknown()).superRefine((variables, context) => {
    for (const message of relativeDayProblems(variables)) context.addIssue({ code: 'custom', message });
  }),
});

function parseHeader(comment: string, where: string): z.output<typeof headerSchema> {
  const description: string[] = [];
  const fields: Record<string, string> = {};
  for (const raw of comment.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('#')) continue;
    const text = line.replace(/^#\s?/, '');
    const field = /^(Client|Scopes|Variables):\s*(.*)$/.exec(text);
    if (field?.[1] !== undefined) fields[field[1].toLowerCase()] = field[2] ?? '';
    else if (text.length > 0) description.push(text);
  }
  let variables: unknown = {};
  if (fields['variables'] !== undefined) {
    try {
      variables = JSON.parse(fields['variables']);
    } catch {
      throw new ExampleOperationsError(`${where}: the Variables line is not JSON.`);
    }
  }
  const parsed = headerSchema.safeParse({
    description: description.join(' '),
    client: fields['client'],
    scopes: (fields['scopes'] ?? '').split(/[\s,]+/).filter(Boolean),
    variables,
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'header'}: ${issue.message}`,
    );
    throw new ExampleOperationsError(`${where}: the leading comment is incomplete (${problems.join('; ')}).`);
  }
  return { ...parsed.data, scopes: [...new Set(parsed.data.scopes)].sort() };
}

/** The operations of one file, in order. */
export function parseExampleOperations(text: string, file: string): ExampleOperation[] {
  let document;
  try {
    document = parse(text);
  } catch (error) {
    const message = error instanceof GraphQLError ? error.message : String(error);
    throw new ExampleOperationsError(`${file}: not a GraphQL document: ${message}`);
  }
  const operations: ExampleOperation[] = [];
  let previousEnd = 0;
  for (const definition of document.definitions) {
    const loc = definition.loc;
    if (!loc) throw new ExampleOperationsError(`${file}: parsed without locations`);
    if (definition.kind !== Kind.OPERATION_DEFINITION || !definition.name)
      throw new ExampleOperationsError(
        `${file}: holds only named operations (no fragments, no anonymous operations): found ${definition.kind} at offset ${loc.start}.`,
      );
    const operation: OperationDefinitionNode = definition;
    const name = definition.name.value;
    const header = parseHeader(text.slice(previousEnd, loc.start), `${file} ${name}`);
    operations.push({
      name,
      kind: operation.operation,
      file,
      ...header,
      source: text.slice(loc.start, loc.end),
    });
    previousEnd = loc.end;
  }
  if (operations.length === 0) throw new ExampleOperationsError(`${file}: holds no operation.`);
  return operations;
}

/** Every example operation in `dir` (`*.graphql`, by file name); names must be unique. */
export function readExampleOperations(dir: string): ExampleOperation[] {
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort();
  const operations = files.flatMap((file) =>
    parseExampleOperations(readFileSync(join(dir, file), 'utf8'), file),
  );
  const seen = new Map<string, string>();
  for (const operation of operations) {
    const other = seen.get(operation.name);
    if (other)
      throw new ExampleOperationsError(
        `Operation ${operation.name} is in both ${other} and ${operation.file}: names must be unique.`,
      );
    seen.set(operation.name, operation.file);
  }
  return operations;
}
