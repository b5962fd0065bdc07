import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../../gateway/auth/api-keys.js';
import type { ClientKeyRecord, ClientRecord } from '../../gateway/auth/registry.js';

/** A scratch directory for registry files, under the system's temporary directory. */
export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'marketing-graph-auth-'));
}

/** A key record and the key it was made from, created at `createdAt`. */
export function keyRecord(extra: Partial<Omit<ClientKeyRecord, 'id' | 'hash'>> = {}): {
  key: string;
  record: ClientKeyRecord;
} {
  const generated = generateApiKey();
  return {
    key: generated.key,
    record: {
      id: generated.keyId,
      hash: generated.hash,
      createdAt: '2025-01-01T00:00:00.000Z',
      ...extra,
    },
  };
}

export function clientRecord(
  id: string,
  keys: ClientKeyRecord[],
  extra: Partial<ClientRecord> = {},
): ClientRecord {
  return {
    id,
    name: `Client ${id}`,
    scopes: ['campaigns:read', 'ads:read'],
    rateLimit: { requestsPerMinute: 600, burst: 60 },
    keys,
    ...extra,
  };
}
