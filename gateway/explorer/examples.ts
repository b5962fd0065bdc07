import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  Kind,
  parse,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { z } from 'zod';
import { relativeDayProblems, resolveExampleVariables } from '../../lib/graphql/example-dates.js';
import type { ExampleFile, ExampleOperation } from './page-config.js';

/** The folder of example operations, one file per kind of user. */
export const OPERATIONS_DIR = 'docs/operations';

const variablesSchema = z.record(z.string(), z.unknown());
const METADATA_LINE = /^#\s*(client|scopes|variables):\s*(.*)$/i;

export interface LoadedExamples {
  examples: ExampleFile[];
  /** One sentence per file or operation left out, naming it and why. */
  problems: string[];
}

/** The contiguous `#` lines right above `offset`, as written. */
function commentBlockBefore(source: string, offset: number): string[] {
  const lines = source.slice(0, offset).split('\n');
  lines.pop(); // the start of the definition's own line
  const block: string[] = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (!line.startsWith('#')) break;
    block.unshift(line);
  }
  return block;
}

/** Fragments an operation spreads, directly or through other fragments, in file order. */
function fragmentsUsedBy(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): FragmentDefinitionNode[] {
  const used = new Set<string>();
  const pending: (OperationDefinitionNode | FragmentDefinitionNode)[] = [operation];
  while (pending.length > 0) {
    visit(pending.pop()!, {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        if (fragment && !used.has(fragment.name.value)) {
          used.add(fragment.name.value);
          pending.push(fragment);
        }
      },
    });
  }
  return [...fragments.values()].filter((fragment) => used.has(fragment.name.value));
}

function slice(source: string, node: { loc?: { start: number; end: number } | undefined }): string {
  return node.loc ? source.slice(node.loc.start, node.loc.end) : '';
}

function operationFrom(
  file: string,
  source: string,
  operation: OperationDefinitionNode & { name: NonNullable<OperationDefinitionNode['name']> },
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): ExampleOperation | string {
  const comments = commentBlockBefore(source, operation.loc?.start ?? 0);
  const description: string[] = [];
  const metadata: Record<string, string> = {};
  for (const line of comments) {
    const match = METADATA_LINE.exec(line);
    if (match) metadata[match[1]!.toLowerCase()] = match[2]!.trim();
    else description.push(line.replace(/^#\s?/, ''));
  }
  let variables = '';
  if (metadata['variables']) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(metadata['variables']);
    } catch {
      return `${file}: the "# Variables:" line of ${operation.name.value} is not JSON`;
    }
    const checked = variablesSchema.safeParse(parsed);
    if (!checked.success)
      return `${file}: the "# Variables:" line of ${operation.name.value} is not a JSON object`;
    const days = relativeDayProblems(checked.data);
    if (days.length > 0)
      return `${file}: the "# Variables:" line of ${operation.name.value} has a bad day (${days.join('; ')})`;
    if (Object.keys(checked.data).length > 0) variables = JSON.stringify(checked.data, null, 2);
  }
  const parts = [
    [...comments, slice(source, operation)].join('\n'),
    ...fragmentsUsedBy(operation, fragments).map((fragment) => slice(source, fragment)),
  ];
  return {
    name: operation.name.value,
    kind: operation.operation,
    description: description.join(' ').trim(),
    ...(metadata['client'] ? { client: metadata['client'] } : {}),
    scopes: (metadata['scopes'] ?? '').split(/[\s,]+/).filter(Boolean),
    document: `${parts.join('\n\n')}\n`,
    variables,
  };
}

/**
 * Reads the example operations (`docs/operations/*.graphql`) for the explorer's Examples pane.
 * Each named operation becomes one example, described by the comment block above it: free text,
 * then optional `# Client:`, `# Scopes:` and `# Variables: {json}` lines. A file that does not
 * parse is left out and named in `problems`, so one typo never takes the explorer down.
 */
export function loadExamples(dir: string = OPERATIONS_DIR): LoadedExamples {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => name.endsWith('.graphql'))
      .sort();
  } catch {
    return { examples: [], problems: [`${dir}: no such folder, so the explorer offers no examples`] };
  }
  const examples: ExampleFile[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const source = readFileSync(path, 'utf8');
    let document: DocumentNode;
    try {
      document = parse(source);
    } catch (error) {
      problems.push(`${path}: does not parse (${(error as Error).message})`);
      continue;
    }
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
    const operations: ExampleOperation[] = [];
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      if (!definition.name) {
        problems.push(`${path}: an operation without a name is left out (examples are picked by name)`);
        continue;
      }
      const operation = operationFrom(path, source, { ...definition, name: definition.name }, fragments);
      if (typeof operation === 'string') problems.push(operation);
      else operations.push(operation);
    }
    if (operations.length > 0) examples.push({ file: basename(name, '.graphql'), operations });
  }
  return { examples, problems };
}

/**
 * The examples as a caller sees them on `today` (YYYY-MM-DD, UTC): relative days in their variables
 * (`"$today-29"`) become dates, so the Dashboard example always asks for the last 30 days.
 */
export function examplesOn(examples: readonly ExampleFile[], today: string): ExampleFile[] {
  return examples.map((file) => ({
    ...file,
    operations: file.operations.map((operation) =>
      operation.variables
        ? {
            ...operation,
            variables: JSON.stringify(
              resolveExampleVariables(variablesSchema.parse(JSON.parse(operation.variables)), today),
              null,
              2,
            ),
          }
        : operation,
    ),
  }));
}
