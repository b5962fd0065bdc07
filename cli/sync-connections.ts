import { DEMO_API_KEYS } from '../gateway/auth/demo-keys.js';
import { ConfigError } from '../lib/config/env.js';
import { registerSecret } from '../lib/logger.js';
import type { SyncTarget } from '../platforms/registry.js';
import { actionConnectionsFromEnv } from './action-connections.js';
import { sandboxPorts } from './command-env.js';

/**
 * How `sync run` and a worker's syncs reach each destination: the platform's own connection when
 * its credential variable is set (base URL, credentials and limits read as its role subgraph reads
 * them, as the routing rules' actions do), else, outside production, the embedded demo's sandbox at
 * its port (`npm start`). In production a sync to a platform that is not configured fails its run
 * naming the variable to set: it never writes to a sandbox. `extra` fills variables the role's
 * reader requires but a sync has no use for (the subgraphs' public key set).
 */
export async function syncConnector(
  source: NodeJS.ProcessEnv,
  production: boolean,
  extra: NodeJS.ProcessEnv,
): Promise<(target: SyncTarget) => unknown> {
  const connections = await actionConnectionsFromEnv(source, extra);
  const ports = sandboxPorts(source);
  return (target) => {
    const configured = connections[target.platform.name];
    if (configured !== undefined) return configured;
    if (production)
      throw new ConfigError([
        `${target.platform.credential.variable}: required in production to sync to ${target.destination.type}`,
      ]);
    return target.platform.sandbox.connection(`http://127.0.0.1:${ports[target.platform.name]}`);
  };
}

/** What a sync reads its source with and reaches each destination through. */
export interface SyncConnections {
  /** The gateway API key for the source (registered as a secret: never logged). */
  apiKey: string;
  connect: (target: SyncTarget) => unknown;
}

/**
 * The key and connector of `sync run` and of a worker's syncs, decided alike: SYNC_API_KEY, else
 * the demo key outside production; each destination as `syncConnector` reaches it.
 */
export async function syncConnections(options: {
  source: NodeJS.ProcessEnv;
  production: boolean;
  /** SYNC_API_KEY as loaded. */
  apiKey: string | undefined;
  /** The setting that runs syncs here, named when production lacks SYNC_API_KEY. */
  requiredWith: string;
  extra: NodeJS.ProcessEnv;
}): Promise<SyncConnections> {
  const apiKey = syncApiKey(options.apiKey, options.production, options.requiredWith);
  registerSecret(apiKey);
  return { apiKey, connect: await syncConnector(options.source, options.production, options.extra) };
}

/** The gateway API key a sync reads its source with: the demo's outside production, never in it. */
function syncApiKey(key: string | undefined, production: boolean, variable: string): string {
  if (key !== undefined) return key;
  if (production)
    throw new ConfigError([
      `SYNC_API_KEY: required with ${variable} in production (the demo key is refused there)`,
    ]);
  return DEMO_API_KEYS['personalization-service'];
}
