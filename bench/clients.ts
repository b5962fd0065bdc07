import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../gateway/auth/api-keys.js';
import { ALL_SCOPES } from '../lib/auth/scopes.js';

/**
 * A registry for benchmarks: one client with every scope and an allowance far above any load a
 * benchmark sends, so per-client rate limits (which the auth benchmark and the tests cover) do not
 * shape the figures of the caching and upstream-limit benchmarks.
 */
export function benchClientRegistry(): { clientsFile: string; headers: Record<string, string> } {
  const key = generateApiKey();
  const dir = mkdtempSync(join(tmpdir(), 'bench-clients-'));
  const clientsFile = join(dir, 'clients.json');
  writeFileSync(
    clientsFile,
    JSON.stringify(
      {
        clients: [
          {
            id: 'bench',
            name: 'Benchmark client',
            scopes: ALL_SCOPES,
            rateLimit: { requestsPerMinute: 1_000_000, burst: 100_000 },
            keys: [{ id: key.keyId, hash: key.hash, createdAt: new Date().toISOString() }],
          },
        ],
      },
      null,
      2,
    ),
  );
  return { clientsFile, headers: { authorization: `Bearer ${key.key}` } };
}
