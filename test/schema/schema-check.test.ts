import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CHANGES_FILE } from '../../scripts/schema-check/changes-file.js';
import { SUBGRAPH_NAMES } from '../../lib/graphql/subgraph-names.js';
import { checkSchema, SchemaCheckInputError } from '../../scripts/schema-check/check.js';

/**
 * `npm run schema:check` on a throwaway git repository holding a copy of schema/: `main` has the
 * real schema committed, and each test edits the working copy the way a developer would.
 */
const REPO = process.cwd();
const SUBGRAPHS = SUBGRAPH_NAMES;

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=schema-check test', '-c', 'user.email=test@example.com', ...args],
    {
      cwd,
      encoding: 'utf8',
    },
  );
}

function edit(root: string, file: string, from: string, to: string): void {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
  writeFileSync(path, text.replace(from, to));
}

/** Runs the real command line in `cwd`, as CI does, and returns its exit code and output. */
function runCli(cwd: string, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      join(REPO, 'node_modules/.bin/tsx'),
      [join(REPO, 'scripts/schema-check/index.ts'), ...args],
      { cwd, encoding: 'utf8' },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run schema:check', () => {
  let root: string;
  const onMain = new Map<string, string>();

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'schema-check-'));
    mkdirSync(join(root, 'schema'));
    for (const name of [...SUBGRAPHS, 'supergraph']) {
      const file = `schema/${name}.graphql`;
      onMain.set(file, readFileSync(join(REPO, file), 'utf8'));
      writeFileSync(join(root, file), onMain.get(file)!);
    }
    git(root, 'init', '--quiet', '--initial-branch=main');
    git(root, 'add', '.');
    git(root, 'commit', '--quiet', '-m', 'the schema on main');
  });
  beforeEach(() => {
    // Back to main's schema, with no changes file.
    for (const [file, text] of onMain) writeFileSync(join(root, file), text);
    rmSync(join(root, CHANGES_FILE), { force: true });
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('should pass when nothing changed', async () => {
    const result = await checkSchema({ root });
    expect(result.status).toBe('passed');
    expect(result.status !== 'skipped' && [result.breaking, result.dangerous, result.safe]).toEqual([
      [],
      [],
      [],
    ]);
  });

  it('should fail on a removed field and name it', async () => {
    edit(
      root,
      'schema/ads.graphql',
      '  "Purchases the ads platform attributes to the ads."\n  conversions: Int!\n',
      '',
    );
    const result = await checkSchema({ root });
    expect(result.status).toBe('failed');
    expect(
      result.status !== 'skipped' && result.breaking.map((change) => [change.type, change.path]),
    ).toEqual([['FIELD_REMOVED', 'AdStats.conversions']]);
  });

  it('should exit 1 from the command line on a breaking change, naming it', async () => {
    edit(
      root,
      'schema/crm.graphql',
      '  "Family name."\n  lastName: String',
      '  "Family name."\n  lastName: Int',
    );
    const { code, stderr } = await runCli(root);
    expect(code).toBe(1);
    expect(stderr).toContain('FIELD_TYPE_CHANGED Customer.lastName');
    expect(stderr).toContain('FAILED');
  });

  it('should pass a breaking change listed with a reason in schema/changes.yaml', async () => {
    edit(
      root,
      'schema/ads.graphql',
      '  "Purchases the ads platform attributes to the ads."\n  conversions: Int!\n',
      '',
    );
    writeFileSync(
      join(root, CHANGES_FILE),
      'changes:\n  - path: AdStats.conversions\n    reason: Meta no longer reports it; the two dashboards using it were told on 2026-11-01.\n',
    );
    const result = await checkSchema({ root });
    expect(result.status).toBe('passed');
    expect(result.status !== 'skipped' && result.accepted.map((change) => change.path)).toEqual([
      'AdStats.conversions',
    ]);
    const { code, stdout } = await runCli(root);
    expect(code).toBe(0);
    expect(stdout).toContain('Meta no longer reports it');
  });

  it('should warn about a dangerous change and still pass', async () => {
    edit(
      root,
      'schema/events.graphql',
      '  "An email campaign was sent."\n  EMAIL_CAMPAIGN_SENT\n',
      '  "An email campaign was sent."\n  EMAIL_CAMPAIGN_SENT\n  "A customer clicked a link in an email."\n  EMAIL_CLICKED\n',
    );
    const result = await checkSchema({ root });
    expect(result.status).toBe('passed');
    expect(
      result.status !== 'skipped' && result.dangerous.map((change) => [change.type, change.path]),
    ).toEqual([['ENUM_VALUE_ADDED', 'EventType.EMAIL_CLICKED']]);
    const { code, stdout } = await runCli(root);
    expect(code).toBe(0);
    expect(stdout).toContain('Warning: dangerous changes (1)');
  });

  it('should refuse a changes file whose entry has no reason, saying what is missing', async () => {
    writeFileSync(join(root, CHANGES_FILE), 'changes:\n  - path: AdStats.conversions\n');
    const failure = await checkSchema({ root }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SchemaCheckInputError);
    expect((failure as SchemaCheckInputError).code).toBe('BAD_CHANGES_FILE');
    expect((failure as Error).message).toContain('changes.0.reason');
  });

  it('should say so and pass when the ref does not exist', async () => {
    const result = await checkSchema({ root, ref: 'no-such-branch' });
    expect(result).toEqual({
      status: 'skipped',
      ref: 'no-such-branch',
      notice: 'There is no git ref "no-such-branch" here, so there is nothing to compare with.',
    });
  });

  it('should pass on this repository against HEAD', async () => {
    const result = await checkSchema({ root: resolve(REPO), ref: 'HEAD' });
    expect(result.status !== 'skipped' && result.breaking).toEqual([]);
  });
});
