import { existsSync } from 'node:fs';
import { ALL_SCOPES, isScope, type Scope } from '../../lib/auth/scopes.js';
import { generateApiKey, generateKeyId } from '../../gateway/auth/api-keys.js';
import {
  loadClientRegistry,
  saveClientRegistry,
  type ClientKeyRecord,
  type ClientRecord,
  type ClientRegistryFile,
} from '../../gateway/auth/registry.js';
import { checkClientRegistry } from '../../gateway/auth/registry-schema.js';
import { flagsOf, required, text, type Flags } from '../flags.js';
import { UsageError } from '../usage.js';

export const CLIENTS_USAGE = `Usage: marketing-graph clients <command> [options]   (the registry is CLIENTS_FILE)

Commands:
  list                      clients, scopes, rate limits and each key's state (never a key or a hash)
  create --id <id> --name <name> --scopes <a,b|all> [--description <text>] [--rpm 600] [--burst 60]
         [--expires-in-days <n>] [--label <text>] [--demo]
                            a new client and its first key; the key is printed once
  add-key --id <client> [--expires-in-days <n>] [--label <text>] [--demo]
                            one more key for a client (rotation); the key is printed once
  expire-key --id <client> --key <keyId> [--in-days <n>]
                            the key stops working in n days (default 0: now); the others keep working
  revoke-key --id <client> --key <keyId>
                            the key stops working now (a leaked key)

--demo marks a key as a public demo credential, which the gateway refuses when NODE_ENV=production.
Scopes: ${ALL_SCOPES.join(', ')}`;

const DEFAULT_RPM = 600;
const DEFAULT_BURST = 60;
const DAY_MS = 86_400_000;

interface Output {
  write(text: string): unknown;
}

export interface ClientsCommandOptions {
  /** Where results go; the new key is the only thing printed there by `create` and `add-key`. @default process.stdout */
  stdout?: Output;
  /** Where notes and warnings go. @default process.stderr */
  stderr?: Output;
  /** The current time, for `createdAt`, expiries and key states. @default () => new Date() */
  now?: () => Date;
}

function integer(flags: Flags, name: string, min: number, max: number): number | undefined {
  const value = text(flags, name);
  if (value === undefined) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

/** `--scopes a,b`, or `--scopes all`: every scope, those a platform adds later included. */
function scopesOf(list: string): Scope[] | 'all' {
  if (list.trim() === 'all') return 'all';
  const names = [...new Set(list.split(',').map((s) => s.trim()))].filter(Boolean);
  const unknown = names.filter((name) => !isScope(name));
  if (unknown.length > 0)
    throw new UsageError(
      `unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `"${s}"`).join(', ')}; expected some of ${ALL_SCOPES.join(', ')}, or all`,
    );
  if (names.length === 0) throw new UsageError('--scopes needs at least one scope');
  return names.filter(isScope);
}

function keyState(key: ClientKeyRecord, now: Date): string {
  const at = now.getTime();
  if (key.revokedAt && Date.parse(key.revokedAt) <= at) return `revoked ${key.revokedAt}`;
  if (key.expiresAt && Date.parse(key.expiresAt) <= at) return `expired ${key.expiresAt}`;
  const until = [
    key.expiresAt && `expires ${key.expiresAt}`,
    key.revokedAt && `revoked from ${key.revokedAt}`,
  ]
    .filter(Boolean)
    .join(', ');
  return until ? `active, ${until}` : 'active';
}

function isActive(key: ClientKeyRecord, at: number): boolean {
  return (
    (!key.revokedAt || Date.parse(key.revokedAt) > at) && (!key.expiresAt || Date.parse(key.expiresAt) > at)
  );
}

class ClientsCli {
  private readonly out: Output;
  private readonly err: Output;
  private readonly now: () => Date;

  constructor(
    private readonly path: string,
    options: ClientsCommandOptions,
  ) {
    this.out = options.stdout ?? process.stdout;
    this.err = options.stderr ?? process.stderr;
    this.now = options.now ?? (() => new Date());
  }

  private read(allowMissing = false): ClientRegistryFile {
    if (allowMissing && !existsSync(this.path)) return { clients: [] };
    if (!existsSync(this.path))
      throw new UsageError(`no client registry at ${this.path}; \`clients create\` starts one`);
    return structuredClone(loadClientRegistry(this.path).file);
  }

  private write(file: ClientRegistryFile): void {
    // Checked here as well as by the save, so a bad value is a usage error with the field named.
    const checked = checkClientRegistry(file);
    if (!checked.ok) throw new UsageError(checked.problems.join('\n'));
    saveClientRegistry(this.path, checked.registry);
  }

  private clientIn(file: ClientRegistryFile, id: string): ClientRecord {
    const client = file.clients.find((c) => c.id === id);
    if (!client)
      throw new UsageError(
        `no client "${id}" in ${this.path}; clients: ${file.clients.map((c) => c.id).join(', ') || '(none)'}`,
      );
    return client;
  }

  private keyIn(client: ClientRecord, keyId: string): ClientKeyRecord {
    const key = client.keys.find((k) => k.id === keyId);
    if (!key)
      throw new UsageError(
        `client "${client.id}" has no key "${keyId}"; its keys: ${client.keys.map((k) => k.id).join(', ') || '(none)'}`,
      );
    return key;
  }

  /** A new key record, and the key itself, which leaves this process once, on stdout. */
  private newKey(file: ClientRegistryFile, flags: Flags): { record: ClientKeyRecord; key: string } {
    const taken = new Set(file.clients.flatMap((c) => c.keys.map((k) => k.id)));
    let keyId = generateKeyId();
    while (taken.has(keyId)) keyId = generateKeyId();
    const generated = generateApiKey(keyId);
    const now = this.now();
    const days = integer(flags, 'expires-in-days', 1, 3650);
    const label = text(flags, 'label');
    const record: ClientKeyRecord = {
      id: generated.keyId,
      ...(label !== undefined ? { label } : {}),
      ...(flags['demo'] === true ? { demo: true as const } : {}),
      hash: generated.hash,
      createdAt: now.toISOString(),
      ...(days !== undefined ? { expiresAt: new Date(now.getTime() + days * DAY_MS).toISOString() } : {}),
    };
    return { record, key: generated.key };
  }

  private printKey(key: string, note: string): void {
    this.out.write(`${key}\n`);
    this.err.write(
      `${note}\nThe key above is shown this once and cannot be recovered (the registry keeps only its hash): store it in the client's secret store now.\n`,
    );
  }

  list(args: readonly string[]): number {
    flagsOf(args, {});
    const file = this.read();
    const now = this.now();
    if (file.clients.length === 0) {
      this.out.write(`No clients in ${this.path}.\n`);
      return 0;
    }
    const lines: string[] = [];
    for (const client of file.clients) {
      lines.push(`${client.id}  ${client.name}`);
      if (client.description) lines.push(`  ${client.description}`);
      lines.push(
        `  scopes      ${client.scopes === 'all' ? 'all (every scope, those added later included)' : client.scopes.join(' ') || '(none)'}`,
      );
      lines.push(`  rate limit  ${client.rateLimit.requestsPerMinute}/min, burst ${client.rateLimit.burst}`);
      if (client.keys.length === 0) lines.push('  keys        (none)');
      client.keys.forEach((key, i) => {
        const marks = [key.demo ? 'DEMO' : '', key.label ? `"${key.label}"` : ''].filter(Boolean).join(' ');
        lines.push(
          `  ${i === 0 ? 'keys' : '    '}        ${key.id}  created ${key.createdAt}  ${keyState(key, now)}${marks ? `  ${marks}` : ''}`,
        );
      });
      lines.push('');
    }
    this.out.write(lines.join('\n'));
    return 0;
  }

  create(args: readonly string[]): number {
    const flags = flagsOf(args, {
      id: 'string',
      name: 'string',
      description: 'string',
      scopes: 'string',
      rpm: 'string',
      burst: 'string',
      'expires-in-days': 'string',
      label: 'string',
      demo: 'boolean',
    });
    const id = required(flags, 'id');
    const name = required(flags, 'name');
    const scopes = scopesOf(required(flags, 'scopes'));
    const requestsPerMinute = integer(flags, 'rpm', 1, 1_000_000) ?? DEFAULT_RPM;
    const burst = integer(flags, 'burst', 1, 100_000) ?? DEFAULT_BURST;
    const description = text(flags, 'description');
    const file = this.read(true);
    if (file.clients.some((c) => c.id === id))
      throw new UsageError(
        `a client "${id}" already exists; \`clients add-key --id ${id}\` gives it a new key`,
      );
    const { record, key } = this.newKey(file, flags);
    file.clients.push({
      id,
      name,
      ...(description !== undefined ? { description } : {}),
      scopes,
      rateLimit: { requestsPerMinute, burst },
      keys: [record],
    });
    this.write(file);
    this.printKey(
      key,
      `Created client "${id}" (scopes ${scopes === 'all' ? 'all' : scopes.join(' ')}) with key ${record.id} in ${this.path}.`,
    );
    return 0;
  }

  addKey(args: readonly string[]): number {
    const flags = flagsOf(args, {
      id: 'string',
      'expires-in-days': 'string',
      label: 'string',
      demo: 'boolean',
    });
    const file = this.read();
    const client = this.clientIn(file, required(flags, 'id'));
    const { record, key } = this.newKey(file, flags);
    const others = client.keys.filter((k) => isActive(k, this.now().getTime())).map((k) => k.id);
    client.keys.push(record);
    this.write(file);
    const rotation = others.length
      ? `\nIts other keys (${others.join(', ')}) keep working; once the client uses the new key, end the old one with \`clients expire-key --id ${client.id} --key <keyId> [--in-days <n>]\`.`
      : '';
    this.printKey(key, `Added key ${record.id} to client "${client.id}" in ${this.path}.${rotation}`);
    return 0;
  }

  expireKey(args: readonly string[]): number {
    const flags = flagsOf(args, { id: 'string', key: 'string', 'in-days': 'string' });
    const file = this.read();
    const client = this.clientIn(file, required(flags, 'id'));
    const key = this.keyIn(client, required(flags, 'key'));
    const days = integer(flags, 'in-days', 0, 3650) ?? 0;
    if (key.revokedAt) throw new UsageError(`key ${key.id} of "${client.id}" is already revoked`);
    const at = this.now().getTime() + days * DAY_MS;
    // Ending a key is one-way: this command never gives a key more time than it already had.
    if (key.expiresAt && Date.parse(key.expiresAt) <= at)
      throw new UsageError(`key ${key.id} of "${client.id}" already expires at ${key.expiresAt}, no later`);
    key.expiresAt = new Date(at).toISOString();
    this.write(file);
    this.err.write(
      `Key ${key.id} of client "${client.id}" ${days === 0 ? 'stopped working' : 'stops working'} at ${key.expiresAt}.\n`,
    );
    this.warnIfNoKeyLeft(client, at);
    return 0;
  }

  revokeKey(args: readonly string[]): number {
    const flags = flagsOf(args, { id: 'string', key: 'string' });
    const file = this.read();
    const client = this.clientIn(file, required(flags, 'id'));
    const key = this.keyIn(client, required(flags, 'key'));
    if (key.revokedAt) throw new UsageError(`key ${key.id} of "${client.id}" is already revoked`);
    const now = this.now();
    key.revokedAt = now.toISOString();
    this.write(file);
    this.err.write(`Revoked key ${key.id} of client "${client.id}" at ${key.revokedAt}.\n`);
    this.warnIfNoKeyLeft(client, now.getTime());
    return 0;
  }

  private warnIfNoKeyLeft(client: ClientRecord, at: number): void {
    if (!client.keys.some((k) => isActive(k, at)))
      this.err.write(
        `Warning: client "${client.id}" has no key that works after that; \`clients add-key --id ${client.id}\` issues one.\n`,
      );
  }
}

/**
 * `clients <command>`: manages the client registry at `registryPath`. Returns the exit code; bad
 * input throws a UsageError (exit code 2). Prints a key only when it creates one, and never a hash.
 */
export async function clientsCommand(
  args: string[],
  registryPath: string,
  options: ClientsCommandOptions = {},
): Promise<number> {
  const [command, ...rest] = args;
  const cli = new ClientsCli(registryPath, options);
  switch (command) {
    case 'list':
      return cli.list(rest);
    case 'create':
      return cli.create(rest);
    case 'add-key':
      return cli.addKey(rest);
    case 'expire-key':
      return cli.expireKey(rest);
    case 'revoke-key':
      return cli.revokeKey(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      (options.stdout ?? process.stdout).write(`${CLIENTS_USAGE}\n`);
      return 0;
    default:
      throw new UsageError(`unknown clients command "${command}"\n\n${CLIENTS_USAGE}`);
  }
}
