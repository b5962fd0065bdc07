import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isCommandName } from '../../cli/command-names.js';
import { commandHelp } from '../../cli/help.js';
import { catalog } from '../../platforms/catalog.js';
import { PLATFORM_SUBGRAPHS } from '../../lib/graphql/subgraph-names.js';
import { exampleDateRange, resolveExampleVariables } from '../../lib/graphql/example-dates.js';
import { readExampleOperations } from '../../lib/graphql/example-operations.js';

/**
 * What the README tells a new user to type must work as typed: each command in "Running the parts
 * separately" sets every variable that command requires (the catalog's `required`, over the list
 * of variables the command reads), and the sample output names the anchor date it was made with.
 */

const readme = readFileSync('README.md', 'utf8');

/** The text of the `## <title>` section, up to the next `## ` heading. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

function shellBlocks(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

interface ShellCommand {
  text: string;
  /** `gateway`, `subgraph`, ... and what follows it on the command line. */
  command: string;
  args: string[];
  /** Variables set for it: on its own line, or exported earlier in the block. */
  named: Set<string>;
}

/** The commands of one shell block: continuation lines joined, comments dropped, `export`s carried. */
function commandsOf(block: string): ShellCommand[] {
  const exported = new Set<string>();
  const commands: ShellCommand[] = [];
  const lines = block.replace(/\\\n\s*/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) continue;
    const assigned = (text: string) =>
      [...text.matchAll(/(?:^|\s)([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]!.replace(/_FILE$/, ''));
    if (line.startsWith('export ')) {
      for (const name of assigned(line.slice('export'.length))) exported.add(name);
      continue;
    }
    const cli = /^(.*?)npx tsx cli\/main\.ts\s+(.*)$/.exec(line);
    const npm = /^(.*?)npm (?:run )?(start|compose)\b(.*)$/.exec(line);
    const [prefix, words] = cli ? [cli[1]!, cli[2]!.split(/\s+/)] : npm ? [npm[1]!, [npm[2]!]] : ['', []];
    if (words.length === 0) throw new Error(`not a command this test knows: ${line}`);
    commands.push({
      text: line,
      command: words[0]!,
      args: words.slice(1),
      named: new Set([...exported, ...assigned(prefix)]),
    });
  }
  return commands;
}

describe('README: Running the parts separately', () => {
  const commands = shellBlocks(section('Running the parts separately')).flatMap(commandsOf);

  it('should show the gateway, every subgraph, a sandbox and compose', () => {
    expect(commands.map((c) => [c.command, ...c.args.slice(0, 1)].join(' '))).toEqual(
      expect.arrayContaining([
        'gateway',
        'subgraph crm',
        'subgraph email',
        'subgraph commerce',
        'subgraph ads',
        'sandbox hubspot',
        'compose',
        'worker',
      ]),
    );
  });

  it('should set every variable each command requires', () => {
    const missing = commands.flatMap((c) => {
      if (!isCommandName(c.command)) return [`${c.text}: unknown command ${c.command}`];
      const required = commandHelp(c.command, c.args).variables.filter((name) => catalog[name].required);
      return required
        .filter((name) => !c.named.has(name))
        .map((name) => `${c.command} ${c.args.join(' ')}: ${name}`);
    });
    expect(missing).toEqual([]);
  });

  it('should require the gateway token keys of the processes that run alone', () => {
    const required = (command: 'gateway' | 'subgraph', args: string[] = []) =>
      commandHelp(command, args).variables.filter((name) => catalog[name].required);
    expect(required('gateway')).toContain('GATEWAY_TOKEN_PRIVATE_JWK');
    for (const name of PLATFORM_SUBGRAPHS)
      expect(required('subgraph', [name])).toContain('GATEWAY_TOKEN_JWKS');
  });
});

describe('README: sample output', () => {
  const operations = section('The operations users run');

  it('should name the anchor date its samples come from, and ask the Dashboard for that range', () => {
    const anchor = /`SANDBOX_ANCHOR_DATE=(\d{4}-\d{2}-\d{2}) npm start`/.exec(operations)?.[1];
    expect(anchor, 'the section names SANDBOX_ANCHOR_DATE=<day> npm start').toBeDefined();
    const range = /`since: "(\d{4}-\d{2}-\d{2})", until: "(\d{4}-\d{2}-\d{2})"`/.exec(operations);
    expect({ since: range?.[1], until: range?.[2] }).toEqual(exampleDateRange(anchor!));
    const dashboard = readExampleOperations('docs/operations').find((o) => o.name === 'Dashboard')!;
    expect(resolveExampleVariables(dashboard.variables, anchor!)).toEqual(exampleDateRange(anchor!));
  });
});
