import { ConfigError } from '../../lib/config/env.js';
import type { ClientIdentity } from '../identity.js';
import { hashSecret, parseApiKey, secretMatches } from './api-keys.js';
import { readRegistryData, registryFormat, writeRegistryData } from './registry-file.js';
import {
  checkClientRegistry,
  grantedScopes,
  type ClientKeyRecord,
  type ClientRecord,
  type ClientRegistryFile,
} from './registry-schema.js';

export type { ClientKeyRecord, ClientRecord, ClientRegistryFile } from './registry-schema.js';

/** Who a registered client is to the gateway: its id and the scopes it holds (`"all"` spelt out). */
export function identityOfClient(client: ClientRecord): ClientIdentity {
  return Object.freeze({
    id: client.id,
    scopes: Object.freeze([...new Set(grantedScopes(client))].sort()),
    via: 'api-key',
  });
}

/** Why a key was refused. For logs and counters only: a client is told no more than "invalid". */
export type ApiKeyFailure = 'malformed' | 'unknown' | 'expired' | 'revoked';

export type ApiKeyVerification =
  { ok: true; identity: ClientIdentity; keyId: string } | { ok: false; reason: ApiKeyFailure };

interface IndexedKey {
  key: ClientKeyRecord;
  identity: ClientIdentity;
  expiresAt: number;
  revokedAt: number;
}

/** Compared against when a key id is unknown, so an unknown id costs the same work as a wrong secret. */
const NO_SUCH_KEY_HASH = hashSecret('no such key');

/**
 * The registered clients and their keys, indexed by key id for one map lookup per request.
 *
 * Rotation: a client may hold several keys and every key that is neither revoked nor past its
 * `expiresAt` is valid. To rotate, add a key (`clients add-key`), move the client to it, then give
 * the old key an expiry (`clients expire-key --in-days N`); both work until that moment, so the
 * switch needs no downtime. `revokedAt` ends a key at once, for a leaked one.
 */
export class ClientRegistry {
  private readonly byKeyId = new Map<string, IndexedKey>();
  private readonly byClientId = new Map<string, ClientRecord>();

  constructor(
    readonly file: ClientRegistryFile,
    /** Where it was read from, for messages. @default '(in memory)' */
    readonly source = '(in memory)',
  ) {
    for (const client of file.clients) {
      this.byClientId.set(client.id, client);
      const identity = identityOfClient(client);
      for (const key of client.keys) {
        this.byKeyId.set(key.id, {
          key,
          identity,
          expiresAt: key.expiresAt ? Date.parse(key.expiresAt) : Infinity,
          revokedAt: key.revokedAt ? Date.parse(key.revokedAt) : Infinity,
        });
      }
    }
  }

  get clients(): readonly ClientRecord[] {
    return this.file.clients;
  }

  client(id: string): ClientRecord | undefined {
    return this.byClientId.get(id);
  }

  /** The client owning the key with this id, and the key. */
  findKey(keyId: string): { client: ClientRecord; key: ClientKeyRecord } | undefined {
    const entry = this.byKeyId.get(keyId);
    const client = entry && this.byClientId.get(entry.identity.id);
    return entry && client ? { client, key: entry.key } : undefined;
  }

  /**
   * Checks an API key as sent by a client. The secret is checked before the key's state, so only
   * the holder of the real key learns (in its own logs, never from us) that the key was revoked.
   * @param now the moment of the request. @default new Date()
   */
  verifyApiKey(text: string, now: Date = new Date()): ApiKeyVerification {
    const parts = parseApiKey(text);
    if (!parts) return { ok: false, reason: 'malformed' };
    const entry = this.byKeyId.get(parts.keyId);
    if (!entry) {
      secretMatches(parts.secret, NO_SUCH_KEY_HASH);
      return { ok: false, reason: 'unknown' };
    }
    if (!secretMatches(parts.secret, entry.key.hash)) return { ok: false, reason: 'unknown' };
    const at = now.getTime();
    if (entry.revokedAt <= at) return { ok: false, reason: 'revoked' };
    if (entry.expiresAt <= at) return { ok: false, reason: 'expired' };
    return { ok: true, identity: entry.identity, keyId: parts.keyId };
  }

  /** Keys marked `"demo": true`: public credentials of the embedded demo. */
  demoKeys(): Array<{ clientId: string; keyId: string }> {
    return this.file.clients.flatMap((client) =>
      client.keys.filter((key) => key.demo).map((key) => ({ clientId: client.id, keyId: key.id })),
    );
  }

  demoKeysPresent(): boolean {
    return this.demoKeys().length > 0;
  }
}

function registryError(path: string, problems: readonly string[]): ConfigError {
  return new ConfigError(problems.map((p) => `CLIENTS_FILE (${path}): ${p}`));
}

function formatOf(path: string) {
  const format = registryFormat(path);
  if (!format)
    throw registryError(path, [
      'expected a file ending in .json, .yaml or .yml (the extension picks the format)',
    ]);
  return format;
}

/** Registry data checked against the schema; a problem throws a ConfigError naming each client and field. */
export function parseClientRegistry(data: unknown, source = '(in memory)'): ClientRegistry {
  const checked = checkClientRegistry(data);
  if (!checked.ok) throw registryError(source, checked.problems);
  return new ClientRegistry(checked.registry, source);
}

/**
 * Reads the registry (JSON or YAML, by extension). Throws a ConfigError listing every problem, so
 * the gateway stops at start-up with exit code 2 rather than serving with a half-read registry.
 */
export function loadClientRegistry(path: string): ClientRegistry {
  const read = readRegistryData(path, formatOf(path));
  if (!read.ok) throw registryError(path, [read.problem]);
  return parseClientRegistry(read.data, path);
}

/**
 * Writes the registry in the format its path names, after checking it, so a file this writes
 * always loads. A YAML file keeps its header comment.
 */
export function saveClientRegistry(path: string, registry: ClientRegistry | ClientRegistryFile): void {
  const format = formatOf(path);
  const data = registry instanceof ClientRegistry ? registry.file : registry;
  const checked = checkClientRegistry(data);
  if (!checked.ok) throw registryError(path, checked.problems);
  writeRegistryData(path, format, checked.registry);
}
