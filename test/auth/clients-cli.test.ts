import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clientsCommand } from '../../cli/commands/clients.js';
import { UsageError } from '../../cli/usage.js';
import { loadClientRegistry } from '../../gateway/auth/registry.js';
import { ALL_SCOPES } from '../../lib/auth/scopes.js';
import { catalog } from '../../platforms/catalog.js';
import { scratchDir } from './fixtures.js';

const DEMO_FILE = catalog.CLIENTS_FILE.default ?? '';
const KEY = /^mgk_\S+$/m;

/** A copy of the demo registry and a CLI bound to it, capturing what each command prints. */
function setup(fileName = 'clients.json', copyDemo = true) {
  const path = join(scratchDir(), fileName);
  if (copyDemo) copyFileSync(DEMO_FILE, path);
  let clock = new Date('2030-03-01T10:00:00.000Z');
  const run = async (...args: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await clientsCommand(args, path, {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      now: () => clock,
    });
    return { code, stdout, stderr };
  };
  const printedKey = (stdout: string) => {
    const key = KEY.exec(stdout)?.[0];
    if (!key) throw new Error(`no key in ${JSON.stringify(stdout)}`);
    return key;
  };
  const verify = (key: string) => {
    const verified = loadClientRegistry(path).verifyApiKey(key, clock);
    return verified.ok ? verified.identity : verified.reason;
  };
  return { path, run, printedKey, verify, advance: (ms: number) => (clock = new Date(clock.getTime() + ms)) };
}

const usageError = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error('expected a UsageError');
};

describe('clients command', () => {
  it('should create a client with every scope from --scopes all, kept as "all" in the file and listed so', async () => {
    const cli = setup();
    const result = await cli.run('create', '--id', 'operator', '--name', 'Operator', '--scopes', 'all');
    expect(result.code).toBe(0);
    expect(cli.verify(cli.printedKey(result.stdout))).toEqual({
      id: 'operator',
      scopes: [...ALL_SCOPES].sort(),
      via: 'api-key',
    });
    expect(loadClientRegistry(cli.path).client('operator')?.scopes).toBe('all');
    expect((await cli.run('list')).stdout).toContain(
      'scopes      all (every scope, those added later included)',
    );
  });

  it('should create a client and print its key once, and the key should work against the saved file', async () => {
    const cli = setup();
    const result = await cli.run(
      'create',
      '--id',
      'billing-sync',
      '--name',
      'Billing sync',
      '--scopes',
      'commerce:read,crm:read',
      '--rpm',
      '120',
      '--burst',
      '20',
    );
    expect(result.code).toBe(0);
    const key = cli.printedKey(result.stdout);
    expect(result.stdout).toBe(`${key}\n`);
    expect(result.stderr).toContain('shown this once and cannot be recovered');
    expect(cli.verify(key)).toEqual({
      id: 'billing-sync',
      scopes: ['commerce:read', 'crm:read'],
      via: 'api-key',
    });
    const saved = loadClientRegistry(cli.path).client('billing-sync');
    expect(saved).toMatchObject({
      name: 'Billing sync',
      rateLimit: { requestsPerMinute: 120, burst: 20 },
      keys: [{ createdAt: '2030-03-01T10:00:00.000Z' }],
    });
    expect(saved?.keys[0]?.demo).toBeUndefined();
    expect(readFileSync(cli.path, 'utf8')).not.toContain(key.split('_').at(-1));
  });

  it('should start a new YAML registry when the file does not exist yet', async () => {
    const cli = setup('clients.yaml', false);
    const created = await cli.run(
      'create',
      '--id',
      'dashboard',
      '--name',
      'Dashboard',
      '--scopes',
      'ads:read',
    );
    expect(readFileSync(cli.path, 'utf8')).toMatch(/^clients:\n {2}- id: dashboard\n/);
    expect(cli.verify(cli.printedKey(created.stdout))).toMatchObject({
      id: 'dashboard',
      scopes: ['ads:read'],
    });
    expect(loadClientRegistry(cli.path).client('dashboard')?.rateLimit).toEqual({
      requestsPerMinute: 600,
      burst: 60,
    });
  });

  it('should rotate: add-key keeps the old key valid, expire-key ends it at the given time', async () => {
    const cli = setup();
    const first = cli.printedKey(
      (await cli.run('create', '--id', 'etl', '--name', 'ETL', '--scopes', 'crm:read')).stdout,
    );
    const added = await cli.run('add-key', '--id', 'etl', '--label', 'rotation 2030-03');
    const second = cli.printedKey(added.stdout);
    expect(added.stderr).toContain('keep working');
    expect([cli.verify(first), cli.verify(second)]).toEqual([
      { id: 'etl', scopes: ['crm:read'], via: 'api-key' },
      { id: 'etl', scopes: ['crm:read'], via: 'api-key' },
    ]);

    const firstId = first.split('_')[1] ?? '';
    expect((await cli.run('expire-key', '--id', 'etl', '--key', firstId, '--in-days', '3')).code).toBe(0);
    const key = loadClientRegistry(cli.path).findKey(firstId)?.key;
    expect(key?.expiresAt).toBe('2030-03-04T10:00:00.000Z');
    cli.advance(3 * 86_400_000 - 1);
    expect(cli.verify(first)).toMatchObject({ id: 'etl' });
    cli.advance(1);
    expect([cli.verify(first), cli.verify(second)]).toEqual([
      'expired',
      { id: 'etl', scopes: ['crm:read'], via: 'api-key' },
    ]);
  });

  it('should end a key now with expire-key and no --in-days, and refuse to lengthen an expiry', async () => {
    const cli = setup();
    const key = cli.printedKey(
      (await cli.run('create', '--id', 'etl', '--name', 'ETL', '--scopes', 'crm:read')).stdout,
    );
    const keyId = key.split('_')[1] ?? '';
    const expired = await cli.run('expire-key', '--id', 'etl', '--key', keyId);
    expect(expired.stderr).toContain('Warning: client "etl" has no key that works after that');
    expect(cli.verify(key)).toBe('expired');
    expect(await usageError(cli.run('expire-key', '--id', 'etl', '--key', keyId, '--in-days', '5'))).toBe(
      `key ${keyId} of "etl" already expires at 2030-03-01T10:00:00.000Z, no later`,
    );
  });

  it('should revoke a key at once, leaving the client its other keys', async () => {
    const cli = setup();
    const leaked = cli.printedKey(
      (await cli.run('create', '--id', 'etl', '--name', 'ETL', '--scopes', 'crm:read')).stdout,
    );
    const spare = cli.printedKey((await cli.run('add-key', '--id', 'etl')).stdout);
    const revoked = await cli.run('revoke-key', '--id', 'etl', '--key', leaked.split('_')[1] ?? '');
    expect(revoked.code).toBe(0);
    expect(revoked.stderr).not.toContain('Warning');
    expect([cli.verify(leaked), cli.verify(spare)]).toEqual([
      'revoked',
      { id: 'etl', scopes: ['crm:read'], via: 'api-key' },
    ]);
  });

  it('should list clients and key states without printing any key or hash', async () => {
    const cli = setup();
    const key = cli.printedKey(
      (await cli.run('create', '--id', 'etl', '--name', 'ETL', '--scopes', 'crm:read')).stdout,
    );
    await cli.run('expire-key', '--id', 'etl', '--key', key.split('_')[1] ?? '', '--in-days', '1');
    const { code, stdout } = await cli.run('list');
    expect(code).toBe(0);
    expect(stdout).toContain('reporting-dashboard  Reporting dashboard');
    expect(stdout).toContain('  scopes      campaigns:read ads:read');
    expect(stdout).toContain(
      `  keys        ${key.split('_')[1] ?? ''}  created 2030-03-01T10:00:00.000Z  active, expires 2030-03-02T10:00:00.000Z`,
    );
    expect(stdout).toMatch(/DEMO "DEMO key: public/);
    expect(stdout).not.toMatch(/sha256:|mgk_/);
  });

  it('should refuse bad input with a usage error that says what is wrong', async () => {
    const cli = setup();
    expect(
      await usageError(cli.run('create', '--id', 'x1', '--name', 'X', '--scopes', 'crm:read,crm:write')),
    ).toBe(`unknown scope "crm:write"; expected some of ${ALL_SCOPES.join(', ')}, or all`);
    expect(await usageError(cli.run('create', '--id', 'admin', '--name', 'X', '--scopes', 'crm:read'))).toBe(
      'a client "admin" already exists; `clients add-key --id admin` gives it a new key',
    );
    expect(await usageError(cli.run('create', '--name', 'X', '--scopes', 'crm:read'))).toBe(
      '--id is required',
    );
    expect(
      await usageError(
        cli.run('create', '--id', 'x1', '--name', 'X', '--scopes', 'crm:read', '--rpm', 'lots'),
      ),
    ).toBe('--rpm must be an integer from 1 to 1000000, got "lots"');
    expect(
      await usageError(cli.run('create', '--id', 'Not Valid', '--name', 'X', '--scopes', 'crm:read')),
    ).toMatch(/^clients\[4\] \(id "Not Valid"\)\.id: expected a client id/);
    expect(await usageError(cli.run('add-key', '--id', 'nobody'))).toBe(
      `no client "nobody" in ${cli.path}; clients: reporting-dashboard, personalization-service, marketing-automation, admin`,
    );
    expect(await usageError(cli.run('revoke-key', '--id', 'admin', '--key', 'zzzzzzzzzzzz'))).toMatch(
      /^client "admin" has no key "zzzzzzzzzzzz"; its keys: [0-9a-v]{12}$/,
    );
    expect(await usageError(cli.run('create', '--id', 'x1', '--bogus'))).toMatch(/Unknown option '--bogus'/);
    expect(await usageError(cli.run('rotate'))).toMatch(/^unknown clients command "rotate"/);
    expect(loadClientRegistry(cli.path).clients.map((c) => c.id)).toEqual([
      'reporting-dashboard',
      'personalization-service',
      'marketing-automation',
      'admin',
    ]);
  });

  it('should say where the registry is missing for commands that need one', async () => {
    const cli = setup('absent.json', false);
    expect(await usageError(cli.run('list'))).toBe(
      `no client registry at ${cli.path}; \`clients create\` starts one`,
    );
  });
});
