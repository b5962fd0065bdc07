import { ConfigError } from '../lib/config/env.js';
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
export function syncConnector(
  source: NodeJS.ProcessEnv,
  production: boolean,
  extra: NodeJS.ProcessEnv,
): (target: SyncTarget) => unknown {
  const connections = actionConnectionsFromEnv(source, extra);
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

/** The gateway API key a sync reads its source with: the demo's outside production, never in it. */
export function syncApiKey(
  key: string | undefined,
  production: boolean,
  variable: string,
  demoKey: string,
): string {
  if (key !== undefined) return key;
  if (production)
    throw new ConfigError([
      `SYNC_API_KEY: required with ${variable} in production (the demo key is refused there)`,
    ]);
  return demoKey;
}
