import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../../gateway/auth/api-keys.js';

export interface TestClient {
  id: string;
  scopes: readonly string[];
  rateLimit?: { requestsPerMinute: number; burst: number };
  maxSubscriptions?: number;
  /** Extra keys: expired or revoked ones, for refusal tests. */
  keys?: { expiresAt?: string; revokedAt?: string }[];
}

/** Writes a client registry with fresh keys; returns its path and each client's keys (first = valid). */
export function writeTestRegistry(clients: readonly TestClient[]): {
  clientsFile: string;
  keys: Record<string, string[]>;
} {
  const keys: Record<string, string[]> = {};
  const now = new Date(Date.now() - 60_000).toISOString();
  const records = clients.map((client) => {
    const specs = [{}, ...(client.keys ?? [])];
    const generated = specs.map((spec) => ({ spec, key: generateApiKey() }));
    keys[client.id] = generated.map((g) => g.key.key);
    return {
      id: client.id,
      name: `Test client ${client.id}`,
      scopes: client.scopes,
      rateLimit: client.rateLimit ?? { requestsPerMinute: 100_000, burst: 10_000 },
      ...(client.maxSubscriptions ? { maxSubscriptions: client.maxSubscriptions } : {}),
      keys: generated.map(({ spec, key }) => ({ id: key.keyId, hash: key.hash, createdAt: now, ...spec })),
    };
  });
  const clientsFile = join(mkdtempSync(join(tmpdir(), 'registry-')), 'clients.json');
  writeFileSync(clientsFile, JSON.stringify({ clients: records }, null, 2));
  return { clientsFile, keys };
}
