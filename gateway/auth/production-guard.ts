import { ConfigError } from '../../lib/config/env.js';
import { parseApiKey, secretMatches } from './api-keys.js';
import { DEMO_API_KEYS } from './demo-keys.js';
import type { ClientRegistry } from './registry.js';

/**
 * Keys anyone can read in this repository: those marked `"demo": true`, and any key whose secret
 * is one of the published demo keys even when the mark was removed.
 */
function publicKeysIn(registry: ClientRegistry): string[] {
  const found = new Set(registry.demoKeys().map(({ clientId, keyId }) => `${clientId}/${keyId}`));
  for (const key of Object.values(DEMO_API_KEYS)) {
    const parts = parseApiKey(key);
    const held = parts && registry.findKey(parts.keyId);
    if (parts && held && secretMatches(parts.secret, held.key.hash))
      found.add(`${held.client.id}/${parts.keyId}`);
  }
  return [...found].sort();
}

/**
 * Stops a production gateway from starting with demo credentials: they are published in this
 * repository, so a deployment that accepted them would be open to anyone. Throws a ConfigError
 * (exit code 2) naming CLIENTS_FILE; other modes accept them.
 */
export function assertNoDemoKeys(registry: ClientRegistry, nodeEnv: string): void {
  if (nodeEnv !== 'production') return;
  const keys = publicKeysIn(registry);
  if (keys.length === 0) return;
  throw new ConfigError([
    `CLIENTS_FILE (${registry.source}): holds public demo keys (${keys.join(', ')}), which NODE_ENV=production refuses; point CLIENTS_FILE at your own registry and create clients with \`marketing-graph clients create\``,
  ]);
}
